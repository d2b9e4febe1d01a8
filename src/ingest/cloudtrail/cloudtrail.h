// The AWS CloudTrail importer: one CloudTrail event record in, native events out.
//
// The framework (ingest/importer.h) frames the input (S3 delivery files {"Records":[...]}, JSON
// arrays, JSON Lines, gzip) and hands this importer one record, a single CloudTrail event
// object, at a time. The mapping is documented in docs/importers/cloudtrail.md; in short:
//
//   - every API call (and console sign-in) by a principal of the account is an `action` event
//     (source event id = eventID) attributed to the access key that signed it
//     (aws:accesskey:AKIA...) with the principal (IAM user, role session and role, root,
//     federated user, ...) as aliases; errorCode/errorMessage are kept in the outcome;
//   - the calls that create, change or end a credential also give a lifecycle event
//     (provision, revocation, rotation, identity) about the credential they act on, with the
//     source event id "<eventID>#<suffix>": IAM users, access keys, roles and their policies;
//     STS temporary keys; Secrets Manager secrets; SSM parameters;
//   - records with no principal of the account (AWS service events, calls an AWS service makes
//     on its own behalf that issue nothing, Insights) are "not NHI-relevant" by
//     "<service>:<eventName>";
//   - a record that is not a CloudTrail event (a required member missing or of the wrong type,
//     a time without offset) is an error "field.path: reason" and is quarantined.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "ingest/importer.h"

namespace simdjson::dom {
class element;
}

namespace nhitrace::ingest::cloudtrail {

// The source.system of every event this importer makes.
inline constexpr std::string_view kSourceSystem = "aws-cloudtrail";

// A new CloudTrail importer (format "cloudtrail"). It keeps no state between records.
std::unique_ptr<Importer> MakeImporter();

// Whether `record` looks like a CloudTrail event: an object with string members eventVersion,
// eventSource and eventName, and a userIdentity object or an eventType string. Cheap: reads
// those members only.
bool LooksLike(const simdjson::dom::element& record);

// The instant (UTC nanoseconds) of a timestamp as CloudTrail writes it inside response
// elements ("Jul 10, 2023, 12:55:24 PM", "Jul 10, 2023 12:24:29 PM", with a space, U+00A0 or
// U+202F before AM/PM; UTC), or of an RFC 3339 date-time with offset. nullopt when `s` is
// neither, or the date does not exist.
std::optional<int64_t> ParseResponseTime(std::string_view s);

}  // namespace nhitrace::ingest::cloudtrail
