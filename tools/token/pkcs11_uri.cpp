#include "tools/token/pkcs11_uri.h"

#include <charconv>

namespace lockctl {

using hashdb::ErrorCode;
using hashdb::MakeError;
using hashdb::Result;

namespace {

constexpr std::size_t kMaxUriSize = 4096;

Result<std::string> PercentDecode(std::string_view in, std::string_view attribute) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    unsigned byte = 0;
    if (i + 2 >= in.size()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "PKCS#11 URI: bad percent escape in " + std::string(attribute));
    }
    auto r = std::from_chars(in.data() + i + 1, in.data() + i + 3, byte, 16);
    if (r.ec != std::errc() || r.ptr != in.data() + i + 3) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "PKCS#11 URI: bad percent escape in " + std::string(attribute));
    }
    out.push_back(static_cast<char>(byte));
    i += 2;
  }
  return out;
}

}  // namespace

bool IsPkcs11Uri(std::string_view spec) { return spec.substr(0, 7) == "pkcs11:"; }

Result<Pkcs11Uri> ParsePkcs11Uri(std::string_view uri) {
  if (!IsPkcs11Uri(uri)) {
    return MakeError(ErrorCode::kInvalidArgument, "not a PKCS#11 URI (must start with pkcs11:)");
  }
  if (uri.size() > kMaxUriSize) {
    return MakeError(ErrorCode::kInvalidArgument, "PKCS#11 URI longer than 4096 bytes");
  }
  uri.remove_prefix(7);
  std::string_view path = uri, query;
  if (auto q = uri.find('?'); q != std::string_view::npos) {
    path = uri.substr(0, q);
    query = uri.substr(q + 1);
  }
  Pkcs11Uri out;
  auto each = [](std::string_view list, char sep, auto&& fn) -> hashdb::Status {
    while (!list.empty()) {
      std::size_t end = list.find(sep);
      std::string_view item = list.substr(0, end);
      list = end == std::string_view::npos ? std::string_view() : list.substr(end + 1);
      if (item.empty()) continue;
      std::size_t eq = item.find('=');
      if (eq == std::string_view::npos) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "PKCS#11 URI: \"" + std::string(item) + "\" is not name=value");
      }
      std::string_view name = item.substr(0, eq);
      auto value = PercentDecode(item.substr(eq + 1), name);
      if (!value.ok()) return value.error();
      HASHDB_TRY(fn(name, std::move(*value)));
    }
    return {};
  };
  HASHDB_TRY(each(path, ';', [&](std::string_view name, std::string value) -> hashdb::Status {
    if (name == "token") {
      out.token = std::move(value);
    } else if (name == "manufacturer") {
      out.manufacturer = std::move(value);
    } else if (name == "serial") {
      out.serial = std::move(value);
    } else if (name == "model") {
      out.model = std::move(value);
    } else if (name == "object") {
      out.object = std::move(value);
    } else if (name == "id") {
      out.id = std::vector<std::uint8_t>(value.begin(), value.end());
    } else if (name == "slot-id") {
      unsigned long slot = 0;
      auto r = std::from_chars(value.data(), value.data() + value.size(), slot);
      if (value.empty() || r.ec != std::errc() || r.ptr != value.data() + value.size()) {
        return MakeError(ErrorCode::kInvalidArgument, "PKCS#11 URI: slot-id must be a number");
      }
      out.slot_id = slot;
    } else if (name == "type") {
      if (value != "private") {
        return MakeError(ErrorCode::kInvalidArgument,
                         "PKCS#11 URI: type must be \"private\" (the signing key)");
      }
    } else if (name == "library-manufacturer" || name == "library-description" ||
               name == "library-version" || name == "slot-description" ||
               name == "slot-manufacturer") {
      // Accepted and ignored: the module is chosen by module-path.
    } else {
      return MakeError(ErrorCode::kInvalidArgument,
                       "PKCS#11 URI: unknown attribute \"" + std::string(name) + "\"");
    }
    return {};
  }));
  HASHDB_TRY(each(query, '&', [&](std::string_view name, std::string value) -> hashdb::Status {
    if (name == "module-path") {
      out.module_path = std::move(value);
    } else if (name == "pin-source") {
      if (value.substr(0, 7) == "file://") {
        value.erase(0, 7);
      } else if (value.substr(0, 5) == "file:") {
        value.erase(0, 5);
      }
      if (value.empty() || value[0] != '/') {
        return MakeError(ErrorCode::kInvalidArgument,
                         "PKCS#11 URI: pin-source must be an absolute file path");
      }
      out.pin_source = std::move(value);
    } else if (name == "pin-value") {
      return MakeError(ErrorCode::kInvalidArgument,
                       "PKCS#11 URI: pin-value is refused (it puts the PIN on the command line); "
                       "use pin-source=file:PATH, --pin-fd or the prompt");
    } else if (name == "module-name") {
      return MakeError(ErrorCode::kUnsupported,
                       "PKCS#11 URI: module-name is not supported; give module-path");
    } else {
      return MakeError(ErrorCode::kInvalidArgument,
                       "PKCS#11 URI: unknown query attribute \"" + std::string(name) + "\"");
    }
    return {};
  }));
  return out;
}

}  // namespace lockctl
