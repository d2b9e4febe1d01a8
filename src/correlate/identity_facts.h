// IdentityFacts: what has been stated about an identity key (its kind, name, owner, sponsor and
// system), each fact with the event that stated it. A fact keeps the latest statement (by
// authoritative time, then source system and id), independently of the others, so a record
// that states only an owner does not erase a sponsor stated elsewhere, and arrival order never
// matters.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "event/event.h"
#include "store/store.h"

namespace nhitrace::correlate {

class IdentityFacts {
 public:
  enum Field { kKind, kName, kOwner, kSponsor, kSystem, kFieldCount };
  static std::string_view FieldName(Field f);

  struct Fact {
    std::string value;
    int64_t time_ns = 0;
    std::string source;  // "<system>\n<event id>"
    uint64_t seq = 0;
    bool set = false;
  };

  // Offers every non-empty fact of `subject`, stated by event `seq`.
  void Offer(const event::Subject& subject, int64_t time_ns, const std::string& source,
             uint64_t seq);
  // Takes, fact by fact, the later statement of the two.
  void Merge(const IdentityFacts& other);

  const Fact& get(Field f) const { return facts_[f]; }
  bool empty() const;

  // The facts stored in an identity key row (values and provenance JSON).
  static Result<IdentityFacts> FromRow(const store::IdentityKeyRow& row);
  void ToRow(store::IdentityKeyRow* row) const;

 private:
  void Offer(Field f, const Fact& fact);
  std::array<Fact, kFieldCount> facts_;
};

}  // namespace nhitrace::correlate
