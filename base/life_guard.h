// LifeGuard: makes posted handlers and completion handlers harmless once their owner is closed or destroyed.
// Asio may still run a handler that completed before a cancel; wrapping it here turns that run into a no-op.
// Used by every layer that posts or waits (virtio's ports and watchers, forward/'s published ports).
#pragma once

#include <memory>
#include <utility>

namespace vznet::base {

/// Hands out wrappers that call through only while the guard is armed (not revoked, not destroyed).
/// Single-threaded: the check and the call happen on the loop thread.
class LifeGuard {
 public:
  LifeGuard() = default;
  LifeGuard(const LifeGuard&) = delete;
  LifeGuard& operator=(const LifeGuard&) = delete;

  /// `fn` wrapped: runs only if this guard is still armed when the wrapper is called.
  template <class F>
  auto wrap(F fn) const {
    return [alive = std::weak_ptr<const char>(token_), fn = std::move(fn)](auto&&... args) mutable {
      if (!alive.expired()) fn(std::forward<decltype(args)>(args)...);
    };
  }
  /// Disarms every wrapper handed out so far and every one handed out later.
  void revoke() { token_.reset(); }
  bool armed() const { return token_ != nullptr; }

 private:
  std::shared_ptr<const char> token_ = std::make_shared<const char>();
};

}  // namespace vznet::base
