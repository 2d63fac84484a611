// The workload's capability sets, as masks of CAP_* bits.
#pragma once

#include <cstdint>
#include <string>

namespace tcbuild {

// The CAP_* number for a name such as "CAP_CHOWN", or -1 if unknown.
int capability_number(const std::string& name);

// The name of CAP_* number `number`, or nullptr past the last one this build knows.
const char* capability_name(int number);

// Drops every capability not in `keep` from the bounding set (needs CAP_SETPCAP).
int drop_bounding_set(uint64_t keep);

// Sets the effective and permitted sets; inheritable and ambient become empty.
int set_capabilities(uint64_t effective, uint64_t permitted);

}  // namespace tcbuild
