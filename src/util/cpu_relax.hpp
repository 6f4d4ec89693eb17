// cpu_relax(): the processor's spin-wait hint, for loops that poll a word another thread will change
// (SpinMutex, Versioning's wait for claims). It lets a sibling hyperthread run and saves power while
// the loop spins; it never blocks.
#pragma once

namespace mantis::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace mantis::detail
