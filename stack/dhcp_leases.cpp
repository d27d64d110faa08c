// The lease pool (see dhcp_leases.h). Records exist only for addresses that have been handed out, indexed by
// address, MAC and client identifier, so every operation costs a few map look-ups, not a scan of the range:
// a guest flooding DISCOVERs with random MACs must not make each one slower than the last.
#include "stack/dhcp_leases.h"

#include <algorithm>

namespace vznet::stack {

namespace {

/// The state as of `now`: an offer or lease past its time is released.
LeaseState state_at(const Lease& lease, DhcpTime now) {
  if ((lease.state == LeaseState::offered || lease.state == LeaseState::bound) && now >= lease.expires) {
    return LeaseState::released;
  }
  return lease.state;
}

/// Offered or bound and not past its time, or in use: the address is its MAC's, whatever identifier others send.
bool live(const Lease& lease, DhcpTime now) {
  const LeaseState state = state_at(lease, now);
  return state == LeaseState::offered || state == LeaseState::bound || state == LeaseState::in_use;
}

/// Bound or in use: a client asking again keeps it (a DISCOVER does not turn it back into an offer).
bool held(const Lease& lease, DhcpTime now) {
  const LeaseState state = state_at(lease, now);
  return state == LeaseState::bound || state == LeaseState::in_use;
}

bool quarantine_over(const Lease& lease, DhcpTime now) {
  return lease.state == LeaseState::declined && now >= lease.expires;
}

}  // namespace

LeasePool::LeasePool(const DhcpConfig& config)
    : config_(config), range_(config.effective_range()), next_fresh_(range_.first.value) {
  for (const DhcpStatic& s : config_.statics) {
    static_by_mac_.emplace(s.mac, s.address);
    static_by_address_.emplace(s.address, s.mac);
  }
}

bool LeasePool::in_pool(Ipv4Address a) const { return range_.first <= a && a <= range_.last; }

bool LeasePool::is_reserved(Ipv4Address a) const { return static_by_address_.contains(a); }

bool LeasePool::owned_by(const Lease& lease, const DhcpClient& client, DhcpTime now) const {
  if (lease.state == LeaseState::declined) return false;
  if (lease.mac == client.mac) return true;
  // Static reservations are the MAC's (that is what --dhcp-static names), whatever identifier is sent; a
  // dynamic lease follows its identifier to another MAC only once it has ended.
  return !lease.is_static && !client.client_id.empty() && lease.client_id == client.client_id && !live(lease, now);
}

std::optional<Lease> LeasePool::holder_of_client_id(const DhcpClient& client, DhcpTime now) const {
  if (client.client_id.empty()) return std::nullopt;
  auto it = by_client_id_.find(client.client_id);
  if (it == by_client_id_.end()) return std::nullopt;
  const Lease& lease = records_.at(it->second);
  if (lease.mac == client.mac || !live(lease, now)) return std::nullopt;
  return lease;
}

DhcpClient LeasePool::as_seen(const DhcpClient& client, DhcpTime now) const {
  if (!holder_of_client_id(client, now)) return client;
  DhcpClient own = client;
  own.client_id.clear();
  return own;
}

bool LeasePool::held_by_other(Ipv4Address address, const DhcpClient& client, DhcpTime now) const {
  if (auto s = static_by_address_.find(address); s != static_by_address_.end()) return s->second != client.mac;
  auto it = records_.find(address.value);
  return it != records_.end() && it->second.mac != client.mac && live(it->second, now);
}

Lease* LeasePool::record_of(const DhcpClient& client, DhcpTime now) {
  // The MAC first: it is what the guard proved. The identifier only finds a lease that has ended.
  if (auto it = by_mac_.find(client.mac); it != by_mac_.end()) return &records_.at(it->second);
  if (!client.client_id.empty()) {
    if (auto it = by_client_id_.find(client.client_id); it != by_client_id_.end()) {
      Lease& lease = records_.at(it->second);
      if (owned_by(lease, client, now)) return &lease;
    }
  }
  return nullptr;
}

void LeasePool::index(const Lease& lease) {
  if (lease.state == LeaseState::declined) return;
  by_mac_[lease.mac] = lease.address.value;
  if (!lease.client_id.empty() && !lease.is_static) by_client_id_[lease.client_id] = lease.address.value;
}

void LeasePool::unindex(const Lease& lease) {
  if (auto it = by_mac_.find(lease.mac); it != by_mac_.end() && it->second == lease.address.value) by_mac_.erase(it);
  if (auto it = by_client_id_.find(lease.client_id); it != by_client_id_.end() && it->second == lease.address.value) {
    by_client_id_.erase(it);
  }
}

void LeasePool::erase(std::uint32_t address) {
  auto it = records_.find(address);
  if (it == records_.end()) return;
  unindex(it->second);
  records_.erase(it);
  if (in_pool(Ipv4Address{address}) && !is_reserved(Ipv4Address{address})) recycled_.push_back(address);
}

Lease& LeasePool::claim(Ipv4Address address, const DhcpClient& client) {
  // One record per client: any other address it held becomes fresh again. `client` is as_seen(), so an
  // identifier still matching another record names one that has ended (or is the same MAC's).
  for (;;) {
    std::optional<std::uint32_t> other;
    if (auto it = by_client_id_.find(client.client_id);
        !client.client_id.empty() && it != by_client_id_.end() && it->second != address.value) {
      other = it->second;
    } else if (auto m = by_mac_.find(client.mac); m != by_mac_.end() && m->second != address.value) {
      other = m->second;
    }
    if (!other) break;
    erase(*other);
  }
  Lease& lease = records_[address.value];
  unindex(lease);
  lease.address = address;
  lease.mac = client.mac;
  lease.client_id = client.client_id;
  if (!client.hostname.empty()) lease.hostname = client.hostname;
  if (lease.state == LeaseState::declined) lease.state = LeaseState::released;
  lease.is_static = is_reserved(address);
  index(lease);
  return lease;
}

std::optional<Ipv4Address> LeasePool::never_used_address() {
  while (!recycled_.empty()) {
    const std::uint32_t a = recycled_.back();
    recycled_.pop_back();
    if (!records_.contains(a)) return Ipv4Address{a};
  }
  while (next_fresh_ <= range_.last.value) {
    const auto a = static_cast<std::uint32_t>(next_fresh_++);
    if (!records_.contains(a) && !is_reserved(Ipv4Address{a})) return Ipv4Address{a};
  }
  return std::nullopt;
}

std::optional<Ipv4Address> LeasePool::reclaim_released(DhcpTime now) {
  if (now < nothing_released_before_) return std::nullopt;
  const Lease* oldest = nullptr;
  DhcpTime next_change = DhcpTime::max();
  for (const auto& [address, lease] : records_) {
    if (lease.is_static || lease.state == LeaseState::declined) continue;
    if (state_at(lease, now) == LeaseState::released) {
      if (oldest == nullptr || lease.expires < oldest->expires) oldest = &lease;
    } else {
      next_change = std::min(next_change, lease.expires);
    }
  }
  if (oldest == nullptr) {
    nothing_released_before_ = next_change;
    return std::nullopt;
  }
  return oldest->address;
}

void LeasePool::forget_ended_quarantines(DhcpTime now) {
  std::erase_if(quarantined_, [&](std::uint32_t address) {
    auto it = records_.find(address);
    if (it == records_.end() || it->second.state != LeaseState::declined) return true;  // claimed since
    if (!quarantine_over(it->second, now)) return false;
    erase(address);
    return true;
  });
}

std::optional<Ipv4Address> LeasePool::offer(const DhcpClient& asking, std::optional<Ipv4Address> requested,
                                            DhcpTime now) {
  forget_ended_quarantines(now);
  const DhcpClient client = as_seen(asking, now);
  auto hold = [&](Ipv4Address address) {
    Lease& lease = claim(address, client);
    if (!held(lease, now)) {
      lease.state = LeaseState::offered;
      lease.expires = now + kOfferHold;
    }
    return address;
  };
  if (auto s = static_by_mac_.find(client.mac); s != static_by_mac_.end()) return hold(s->second);
  if (const Lease* mine = record_of(client, now); mine != nullptr && !mine->is_static) return hold(mine->address);
  if (requested && in_pool(*requested) && !is_reserved(*requested) && !records_.contains(requested->value)) {
    return hold(*requested);
  }
  if (auto fresh = never_used_address()) return hold(*fresh);
  if (auto reclaimed = reclaim_released(now)) return hold(*reclaimed);
  return std::nullopt;
}

std::optional<Lease> LeasePool::bind(const DhcpClient& asking, Ipv4Address address, DhcpTime now) {
  forget_ended_quarantines(now);
  const DhcpClient client = as_seen(asking, now);
  if (auto s = static_by_mac_.find(client.mac); s != static_by_mac_.end()) {
    if (address != s->second) return std::nullopt;
  } else {
    if (!in_pool(address) || is_reserved(address)) return std::nullopt;
    // Another client's address (held, or released and still reserved for it), or quarantined: NAK; the
    // client then DISCOVERs and is offered one it may have.
    if (auto it = records_.find(address.value); it != records_.end() && !owned_by(it->second, client, now)) {
      return std::nullopt;
    }
  }
  Lease& lease = claim(address, client);
  lease.state = LeaseState::bound;
  lease.expires = now + config_.lease_time;
  return lease;
}

bool LeasePool::release(const DhcpClient& client, Ipv4Address address, DhcpTime now) {
  auto it = records_.find(address.value);
  // Only the MAC holding the lease gives it up: an identifier is no proof (see DhcpClient).
  if (it == records_.end() || it->second.state == LeaseState::declined || it->second.mac != client.mac) return false;
  Lease& lease = it->second;
  if (state_at(lease, now) != LeaseState::released) {
    lease.state = LeaseState::released;
    lease.expires = now;  // oldest-released is reclaimed first: the time it was given up
  }
  nothing_released_before_ = DhcpTime{};
  return true;
}

bool LeasePool::decline(const DhcpClient& client, Ipv4Address address, DhcpTime now) {
  auto it = records_.find(address.value);
  if (it == records_.end() || it->second.state == LeaseState::declined || it->second.mac != client.mac ||
      it->second.is_static) {
    return false;
  }
  Lease& lease = it->second;
  unindex(lease);
  lease.mac = base::MacAddress{};
  lease.client_id.clear();
  lease.hostname.clear();
  lease.state = LeaseState::declined;
  lease.expires = now + kDeclineQuarantine;
  quarantined_.push_back(address.value);
  return true;
}

void LeasePool::withdraw_offer(const DhcpClient& client, DhcpTime now) {
  Lease* lease = record_of(as_seen(client, now), now);
  if (lease == nullptr || state_at(*lease, now) != LeaseState::offered) return;
  lease->state = LeaseState::released;
  lease->expires = now;
  nothing_released_before_ = DhcpTime{};
}

AddressClaim LeasePool::use(const base::MacAddress& mac, Ipv4Address address, DhcpTime now) {
  forget_ended_quarantines(now);
  if (auto s = static_by_address_.find(address); s != static_by_address_.end()) {
    return {s->second == mac, s->second};
  }
  if (!in_pool(address)) return {true, mac};
  if (auto it = records_.find(address.value); it != records_.end() && it->second.mac != mac && live(it->second, now)) {
    return {false, it->second.mac};
  }
  Lease& lease = claim(address, DhcpClient{mac, {}, {}});
  lease.state = LeaseState::in_use;
  lease.expires = DhcpTime::max();
  return {true, mac};
}

void LeasePool::end_use(const base::MacAddress& mac, Ipv4Address address, DhcpTime now) {
  auto it = records_.find(address.value);
  if (it == records_.end() || it->second.mac != mac || it->second.state != LeaseState::in_use) return;
  it->second.state = LeaseState::bound;
  it->second.expires = now + config_.lease_time;
}

std::vector<Lease> LeasePool::snapshot(DhcpTime now) const {
  std::vector<Lease> out;
  out.reserve(records_.size());
  for (const auto& [address, lease] : records_) {
    if (quarantine_over(lease, now)) continue;
    out.push_back(lease);
    out.back().state = state_at(lease, now);
  }
  return out;
}

std::optional<Lease> LeasePool::find(Ipv4Address address, DhcpTime now) const {
  auto it = records_.find(address.value);
  if (it == records_.end() || quarantine_over(it->second, now)) return std::nullopt;
  Lease out = it->second;
  out.state = state_at(out, now);
  return out;
}

}  // namespace vznet::stack
