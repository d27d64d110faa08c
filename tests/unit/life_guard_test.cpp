// base/life_guard.h: wrapped handlers run while the guard is armed, and never after revoke() or its destruction.
#include <gtest/gtest.h>

#include <memory>

#include "base/life_guard.h"

namespace vznet::base {
namespace {

TEST(LifeGuard, WrapperCallsThroughWhileArmed) {
  LifeGuard guard;
  int calls = 0;
  auto handler = guard.wrap([&calls](int n) { calls += n; });
  handler(2);
  handler(3);
  EXPECT_EQ(calls, 5);
  EXPECT_TRUE(guard.armed());
}

TEST(LifeGuard, RevokeDisarmsEarlierAndLaterWrappers) {
  LifeGuard guard;
  int calls = 0;
  auto before = guard.wrap([&calls] { ++calls; });
  guard.revoke();
  auto after = guard.wrap([&calls] { ++calls; });
  before();
  after();
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(guard.armed());
}

TEST(LifeGuard, DestroyedGuardDisarmsItsWrappers) {
  int calls = 0;
  auto guard = std::make_unique<LifeGuard>();
  auto handler = guard->wrap([&calls] { ++calls; });
  guard.reset();
  handler();
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace vznet::base
