#include "hashdb/file_version.h"

namespace hashdb {

FileVersion FileVersion::FromStat(const struct stat& st) {
  FileVersion v;
  v.dev = st.st_dev;
  v.ino = st.st_ino;
  v.size = st.st_size;
  v.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  v.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  v.mode = st.st_mode;
  v.uid = st.st_uid;
  return v;
}

}  // namespace hashdb
