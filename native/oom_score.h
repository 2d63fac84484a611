// The container's init is a copy of Node, whose resident pages count for the
// OOM killer although they are charged elsewhere: without this, a memory
// limit would make the kernel kill the init rather than the workload.
#pragma once

namespace tcbuild {

// In the init: remembers its oom_score_adj and makes it unkillable by the OOM killer.
void shield_from_oom_killer();

// In the workload: gives back the remembered oom_score_adj (raising needs no privilege).
void restore_oom_score();

}  // namespace tcbuild
