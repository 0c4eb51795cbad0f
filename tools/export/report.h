#pragma once
// report.html: the readable, self-contained page of the export for an auditor. One file, no
// JavaScript, no external fonts, images, style sheets or links to anywhere; a
// Content-Security-Policy of default-src 'none' makes the browser refuse any load even if one
// slipped in. Every string from the terminal goes through Html() (html.h).

#include <optional>
#include <string>
#include <vector>

#include "audit/verify.h"
#include "hashdb/authorization.h"
#include "hashdb/database.h"
#include "tools/doctor/posture.h"
#include "tools/export/audit_facts.h"
#include "tools/export/evidence.h"
#include "tools/export/inventory.h"

namespace lockctl::exporttool {

struct SignerFacts {
  hashdb::TokenInfo token;
  std::string key_id;
  std::string describe;
};

struct ReportInput {
  HostFacts host;
  const hashdb::Database* db = nullptr;
  DatabaseFacts db_facts;
  lockd::audit::VerifyReport chain;
  bool have_log = false;
  std::string log_base;
  const AuditFacts* facts = nullptr;  // limited by --since
  std::vector<lockd::PostureCheck> posture;
  std::optional<SignerFacts> signer;
  bool daemon_status = false;  // status.json is in the bundle
};

std::string RenderReportHtml(const ReportInput& in);

}  // namespace lockctl::exporttool
