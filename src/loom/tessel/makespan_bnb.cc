#include "loom/tessel/makespan_bnb.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "loom/base/strings.h"

namespace loom::tessel {
namespace {

constexpr double kEps = 1e-9;
constexpr double kInf = std::numeric_limits<double>::infinity();
// Devices with more blocks than this, and large instances, use the plain per-device bound (the
// subset bound is cubic in the blocks per device and pays off only where proofs are in reach).
constexpr size_t kMaxSubsetBlocks = 12;

struct Cand {
  double start;
  double neg_tail;
  int block;
};

class Tree {
 public:
  Tree(const Placement& p, const Analysis& a, int m, double incumbent)
      : p_(p), a_(a), n_(a.num_blocks), m_(m), best_(incumbent) {
    end_.assign(static_cast<size_t>(n_) * static_cast<size_t>(m_), -1.0);
    free_.assign(static_cast<size_t>(p.num_devices), 0.0);
    mem_.assign(static_cast<size_t>(p.num_devices), 0.0);
    rem_.assign(a.work.begin(), a.work.end());
    for (double& r : rem_) r *= m;
    next_.assign(static_cast<size_t>(n_), 0);
    after_.assign(static_cast<size_t>(p.num_devices),
                  std::vector<double>(static_cast<size_t>(n_), kInf));
    for (int d = 0; d < p.num_devices; ++d)
      for (int b : a.device_blocks[static_cast<size_t>(d)]) {
        const Block& blk = p.blocks[static_cast<size_t>(b)];
        after_[static_cast<size_t>(d)][static_cast<size_t>(b)] =
            a.tail[static_cast<size_t>(b)] - blk.duration[static_cast<size_t>(blk.DeviceSlot(d))];
      }
    est_.assign(static_cast<size_t>(n_), 0.0);
    remaining_ = static_cast<int64_t>(n_) * m_;
    // The table pays off where proofs are within reach; on large instances its keys cost more
    // than the duplicates it removes.
    use_table_ = remaining_ <= kMaxTableInstances;
  }

  // Children of the current node, ordered, after bound and dominance pruning.
  std::vector<Cand> Children() {
    std::vector<Cand> c;
    if (Bound() >= best_ - kEps) return c;
    for (int b = 0; b < n_; ++b) {
      int j = next_[static_cast<size_t>(b)];
      if (j >= m_) continue;
      const Block& blk = p_.blocks[static_cast<size_t>(b)];
      double s = 0;
      bool ready = true;
      for (const InEdge& e : a_.preds[static_cast<size_t>(b)]) {
        double pe = End(e.from, j);
        if (pe < 0) {
          ready = false;
          break;
        }
        s = std::max(s, pe + e.latency);
      }
      if (!ready) continue;
      bool fits = true;
      for (size_t k = 0; k < blk.devices.size(); ++k) {
        size_t d = static_cast<size_t>(blk.devices[k]);
        s = std::max(s, free_[d]);
        fits = fits && mem_[d] + blk.memory[k] <= p_.Cap(blk.devices[k]) + kEps;
      }
      if (fits) c.push_back({s, -a_.tail[static_cast<size_t>(b)], b});
    }
    // Left-shift dominance: drop x when a ready y on a subset of x's devices ends before x
    // could start and y does not add memory on a capped device.
    std::vector<Cand> kept;
    for (const Cand& x : c) {
      const Block& bx = p_.blocks[static_cast<size_t>(x.block)];
      bool dominated = false;
      for (const Cand& y : c) {
        if (y.block == x.block) continue;
        const Block& by = p_.blocks[static_cast<size_t>(y.block)];
        if (y.start + by.Span() > x.start + kEps) continue;
        bool subset = true;
        for (size_t k = 0; k < by.devices.size() && subset; ++k) {
          int sx = bx.DeviceSlot(by.devices[k]);
          if (sx < 0) {
            subset = false;
            break;
          }
          // Moving y earlier raises memory between the two positions unless y frees memory.
          if (by.memory[k] > 0 && p_.Cap(by.devices[k]) != kNoCap) subset = false;
        }
        if (subset) {
          dominated = true;
          break;
        }
      }
      if (!dominated) kept.push_back(x);
    }
    std::sort(kept.begin(), kept.end(), [](const Cand& x, const Cand& y) {
      return std::tie(x.start, x.neg_tail, x.block) < std::tie(y.start, y.neg_tail, y.block);
    });
    return kept;
  }

  void Push(const Cand& c) {
    int b = c.block;
    int j = next_[static_cast<size_t>(b)]++;
    const Block& blk = p_.blocks[static_cast<size_t>(b)];
    Undo u{b, cur_max_, {}};
    for (size_t k = 0; k < blk.devices.size(); ++k) {
      size_t d = static_cast<size_t>(blk.devices[k]);
      u.free.push_back(free_[d]);
      free_[d] = c.start + blk.duration[k];
      mem_[d] += blk.memory[k];
      rem_[d] -= blk.duration[k];
    }
    End(b, j) = c.start + blk.Span();
    cur_max_ = std::max(cur_max_, c.start + blk.Span());
    path_.push_back({b, j, c.start});
    undo_.push_back(std::move(u));
    --remaining_;
  }

  void Pop() {
    Undo u = std::move(undo_.back());
    undo_.pop_back();
    path_.pop_back();
    int b = u.block;
    int j = --next_[static_cast<size_t>(b)];
    const Block& blk = p_.blocks[static_cast<size_t>(b)];
    for (size_t k = 0; k < blk.devices.size(); ++k) {
      size_t d = static_cast<size_t>(blk.devices[k]);
      free_[d] = u.free[k];
      mem_[d] -= blk.memory[k];
      rem_[d] += blk.duration[k];
    }
    End(b, j) = -1.0;
    cur_max_ = u.max_end;
    ++remaining_;
  }

  // Depth-first search below the current node; false when the budget ran out.
  bool Dfs(int64_t budget) {
    if (++nodes_ > budget) return false;
    if (remaining_ == 0) {
      if (cur_max_ < best_ - kEps) {
        best_ = cur_max_;
        best_path_ = path_;
      }
      return true;
    }
    if (use_table_ && Seen()) return true;
    for (const Cand& c : Children()) {
      Push(c);
      bool ok = Dfs(budget);
      Pop();
      if (!ok) return false;
      if (Bound() >= best_ - kEps) break;
    }
    return true;
  }

  double best() const { return best_; }
  const std::vector<Op>& best_path() const { return best_path_; }
  int64_t nodes() const { return nodes_; }

 private:
  struct Undo {
    int block;
    double max_end;
    std::vector<double> free;
  };

  // Transposition table: two nodes with the same remaining instances, device free times and
  // ends of the scheduled predecessors of unscheduled instances have the same completions;
  // the one reached with a larger (or equal) current makespan is dominated. Exact keys only.
  bool Seen() {
    key_.clear();
    for (int x : next_) key_.push_back(static_cast<double>(x));
    for (double f : free_) key_.push_back(f);
    for (const Edge& e : p_.edges)
      for (int j = next_[static_cast<size_t>(e.to)]; j < next_[static_cast<size_t>(e.from)]; ++j)
        key_.push_back(End(e.from, j));
    auto it = seen_.find(key_);
    if (it != seen_.end()) {
      if (cur_max_ >= it->second - kEps) return true;
      it->second = cur_max_;
      return false;
    }
    if (seen_.size() < kMaxSeen) seen_.emplace(key_, cur_max_);
    return false;
  }

  struct KeyHash {
    size_t operator()(const std::vector<double>& k) const {
      size_t h = 1469598103934665603ull;
      for (double x : k) {
        h ^= std::hash<double>()(x);
        h *= 1099511628211ull;
      }
      return h;
    }
  };
  static constexpr size_t kMaxSeen = 1 << 18;
  static constexpr int64_t kMaxTableInstances = 500;
  bool use_table_ = true;
  std::vector<double> key_;
  std::unordered_map<std::vector<double>, double, KeyHash> seen_;

  double& End(int b, int j) {
    return end_[static_cast<size_t>(j) * static_cast<size_t>(n_) + static_cast<size_t>(b)];
  }

  double Bound() {
    double lb = cur_max_;
    // Earliest start of each block's next instance, in topological order: the critical path
    // bound, and the earliest time each device can resume work.
    for (int b : a_.topo) {
      int j = next_[static_cast<size_t>(b)];
      if (j >= m_) continue;
      const Block& blk = p_.blocks[static_cast<size_t>(b)];
      double e = 0;
      for (int d : blk.devices) e = std::max(e, free_[static_cast<size_t>(d)]);
      for (const InEdge& in : a_.preds[static_cast<size_t>(b)]) {
        double pe = End(in.from, j);
        double ready = pe >= 0 ? pe
                               : est_[static_cast<size_t>(in.from)] +
                                     p_.blocks[static_cast<size_t>(in.from)].Span();
        e = std::max(e, ready + in.latency);
      }
      est_[static_cast<size_t>(b)] = e;
      lb = std::max(lb, e + a_.tail[static_cast<size_t>(b)]);
    }
    // Per device, the one-machine bound with heads and tails over the remaining instances:
    // for thresholds (R, Q), the remaining instances of blocks whose next instance cannot
    // start before R and whose after-path is at least Q all run between max(free, R) and
    // C − Q. R and Q range over the blocks' own values (R = Q = min is the plain bound).
    for (size_t d = 0; d < free_.size(); ++d) {
      if (rem_[d] <= kEps) continue;
      const auto& bs = a_.device_blocks[d];
      if (bs.size() > kMaxSubsetBlocks || !use_table_) {
        double resume = kInf, after = kInf;
        for (int b : bs) {
          if (next_[static_cast<size_t>(b)] >= m_) continue;
          resume = std::min(resume, est_[static_cast<size_t>(b)]);
          after = std::min(after, after_[d][static_cast<size_t>(b)]);
        }
        lb = std::max(lb, std::max(free_[d], resume) + rem_[d] + after);
        continue;
      }
      for (int rb : bs) {
        if (next_[static_cast<size_t>(rb)] >= m_) continue;
        double r = est_[static_cast<size_t>(rb)];
        for (int qb : bs) {
          if (next_[static_cast<size_t>(qb)] >= m_) continue;
          double q = after_[d][static_cast<size_t>(qb)];
          double work = 0;
          for (int b : bs) {
            int left = m_ - next_[static_cast<size_t>(b)];
            if (left <= 0 || est_[static_cast<size_t>(b)] < r || after_[d][static_cast<size_t>(b)] < q)
              continue;
            const Block& blk = p_.blocks[static_cast<size_t>(b)];
            work += left * blk.duration[static_cast<size_t>(blk.DeviceSlot(static_cast<int>(d)))];
          }
          if (work > 0) lb = std::max(lb, std::max(free_[d], r) + work + q);
        }
      }
    }
    return lb;
  }

  const Placement& p_;
  const Analysis& a_;
  int n_;
  int m_;
  double best_;
  std::vector<double> end_, free_, mem_, rem_, est_;
  std::vector<std::vector<double>> after_;  // per device, per block: tail − duration there
  std::vector<int> next_;
  double cur_max_ = 0;
  int64_t remaining_ = 0;
  int64_t nodes_ = 0;
  std::vector<Op> path_, best_path_;
  std::vector<Undo> undo_;
};

// Enumerates the prefixes at `depth` (pruned as in the search) into `out`.
void Prefixes(Tree& t, int depth, std::vector<Cand>& cur, std::vector<std::vector<Cand>>& out) {
  if (depth == 0) {
    out.push_back(cur);
    return;
  }
  std::vector<Cand> kids = t.Children();
  if (kids.empty()) {
    out.push_back(cur);  // a leaf or a pruned node: the subtree search settles it
    return;
  }
  for (const Cand& c : kids) {
    t.Push(c);
    cur.push_back(c);
    Prefixes(t, depth - 1, cur, out);
    cur.pop_back();
    t.Pop();
  }
}

}  // namespace

StatusOr<BnbResult> SearchMakespan(const Placement& p, const Analysis& a, int m,
                                   const Schedule& incumbent, const BnbOptions& o) {
  if (m < 1) return InvalidArgumentError("makespan search: need at least one micro-batch");
  BnbResult r;
  r.best = incumbent;
  r.makespan = ComputeMetrics(p, incumbent).makespan;
  r.lower_bound = a.MakespanBound(p, m);
  if (r.makespan <= r.lower_bound + kEps) {
    r.proven = true;
    return r;
  }
  Tree root(p, a, m, r.makespan);
  std::vector<std::vector<Cand>> prefixes;
  std::vector<Cand> cur;
  Prefixes(root, std::max(0, o.split_depth), cur, prefixes);
  r.subtrees = static_cast<int>(prefixes.size());
  struct Part {
    double best = kInf;
    std::vector<Op> path;
    bool done = false;
    int64_t nodes = 0;
  };
  std::vector<Part> parts(prefixes.size());
  int64_t per = std::max<int64_t>(1000, o.node_budget / std::max<int64_t>(1, r.subtrees));
  ThreadPool& pool = o.pool ? *o.pool : DefaultThreadPool();
  pool.ParallelForEach(static_cast<int64_t>(prefixes.size()), [&](int64_t i) {
    Tree t(p, a, m, r.makespan);
    for (const Cand& c : prefixes[static_cast<size_t>(i)]) t.Push(c);
    Part& part = parts[static_cast<size_t>(i)];
    part.done = t.Dfs(per);
    part.best = t.best();
    part.path = t.best_path();
    part.nodes = t.nodes();
  });
  bool all_done = true;
  int best_part = -1;
  for (size_t i = 0; i < parts.size(); ++i) {
    r.nodes += parts[i].nodes;
    all_done = all_done && parts[i].done;
    if (!parts[i].path.empty() &&
        (best_part < 0 || parts[i].best < parts[static_cast<size_t>(best_part)].best - kEps))
      best_part = static_cast<int>(i);
  }
  if (best_part >= 0 && parts[static_cast<size_t>(best_part)].best < r.makespan - kEps) {
    Schedule s;
    s.num_devices = p.num_devices;
    s.num_micro = m;
    s.ops = parts[static_cast<size_t>(best_part)].path;
    s.period = incumbent.period;
    s.window_begin = incumbent.window_begin;
    s.window_end = incumbent.window_end;
    Normalize(s);
    r.best = std::move(s);
    r.makespan = parts[static_cast<size_t>(best_part)].best;
    r.improved = true;
  }
  if (all_done) {
    r.proven = true;
    r.lower_bound = r.makespan;
  }
  return r;
}

}  // namespace loom::tessel
