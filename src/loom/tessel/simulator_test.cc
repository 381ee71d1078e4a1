// Closed forms of §3.7 (docs/systems brief) reproduced by the ASAP simulator, and the
// independent validator catching each kind of violation.
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "loom/tessel/analysis.h"
#include "loom/tessel/baselines.h"
#include "loom/tessel/list_schedule.h"
#include "loom/tessel/placements.h"
#include "loom/tessel/search.h"
#include "loom/tessel/simulator.h"
#include "loom/tessel/validator.h"

namespace loom::tessel {
namespace {

TEST(ClosedForm, GpipeAnd1F1BMakespanBubbleAndPeaksOverAGrid) {
  for (int p : {2, 4, 8})
    for (int m : {1, 2, 3, 4, 7, 8, 16, 32})
      for (auto [f, b] : {std::pair{1.0, 3.0}, {1.0, 2.0}, {2.0, 3.0}})
        for (const char* name : {"gpipe", "1f1b"}) {
          PlacementOptions o;
          o.devices = p;
          o.f = f;
          o.b = b;
          auto base = MakeBaseline(name, o, m);
          ASSERT_TRUE(base.ok()) << base.status();
          ASSERT_TRUE(ValidateSchedule(base->placement, base->schedule).ok());
          ScheduleMetrics mt = ComputeMetrics(base->placement, base->schedule);
          SCOPED_TRACE(::testing::Message() << name << " p=" << p << " m=" << m << " F=" << f);
          EXPECT_DOUBLE_EQ(mt.makespan, (m + p - 1) * (f + b));
          EXPECT_NEAR(mt.bubble_ratio, double(p - 1) / (m + p - 1), 1e-12);
          for (int s = 0; s < p; ++s) {
            double want = std::string(name) == "gpipe" ? m : std::min(p - s, m);
            EXPECT_DOUBLE_EQ(mt.peak_memory[static_cast<size_t>(s)], want) << "stage " << s;
          }
        }
}

TEST(ClosedForm, InterleavedMegatronOrderOverAGrid) {
  for (int p : {4, 8})
    for (int v : {2, 4})
      for (int m = p; m <= 32; m += p) {
        PlacementOptions o;
        o.devices = p;
        o.chunks = v;
        o.f = 4;  // per chunk 4/v, exact in binary
        o.b = 8;
        auto base = MakeBaseline("interleaved", o, m);
        ASSERT_TRUE(base.ok()) << base.status();
        ASSERT_TRUE(ValidateSchedule(base->placement, base->schedule).ok());
        ScheduleMetrics mt = ComputeMetrics(base->placement, base->schedule);
        SCOPED_TRACE(::testing::Message() << "p=" << p << " v=" << v << " m=" << m);
        EXPECT_DOUBLE_EQ(mt.makespan, (m + double(p - 1) / v) * (o.f + o.b));
        EXPECT_NEAR(mt.bubble_ratio, double(p - 1) / (v * m + p - 1), 1e-12);
        for (int r = 0; r < p; ++r) {
          // Megatron's warm-up of rank r plus the first steady forward, in chunk activations.
          double want = std::min(2 * (p - r - 1) + (v - 1) * p + 1, m * v);
          EXPECT_DOUBLE_EQ(mt.peak_memory[static_cast<size_t>(r)], want) << "rank " << r;
        }
      }
}

TEST(Baseline, HandBuiltZeroBubbleOrdersReproduceTheirClosedForms) {
  // ZB paper (arXiv 2401.10241): ZB-H1 idles (p − 1)(F + B − W) per stage at 1F1B's memory;
  // ZB-H2 idles at most (p − 1)(F + B − 2W) inside a stage's window (first start to last end),
  // with 2(p − i) − 1 in flight.
  // Exact for W <= min(F, B) (the paper's F = B = W and two unequal cases here).
  for (auto [f, b, w] : {std::tuple{1.0, 1.0, 1.0}, {1.0, 2.0, 1.0}, {2.0, 3.0, 1.0}})
    for (int p : {2, 4, 8})
      for (int m : {2 * p, 3 * p + 1, 32}) {
        PlacementOptions o;
        o.devices = p;
        o.f = f;
        o.b = b;
        o.w = w;
        SCOPED_TRACE(::testing::Message() << "F B W " << f << " " << b << " " << w << " p=" << p
                                          << " m=" << m);
        auto h1 = MakeBaseline("zbh1", o, m);
        ASSERT_TRUE(h1.ok()) << h1.status();
        ASSERT_TRUE(ValidateSchedule(h1->placement, h1->schedule).ok());
        ScheduleMetrics m1 = ComputeMetrics(h1->placement, h1->schedule);
        EXPECT_DOUBLE_EQ(m1.makespan, m * (f + b + w) + (p - 1) * (f + b - w));
        auto h2 = MakeBaseline("zbh2", o, m);
        ASSERT_TRUE(h2.ok()) << h2.status();
        ASSERT_TRUE(ValidateSchedule(h2->placement, h2->schedule).ok());
        ScheduleMetrics m2 = ComputeMetrics(h2->placement, h2->schedule);
        EXPECT_LE(m2.makespan, m1.makespan);
        double worst_window_idle = 0;
        for (int i = 0; i < p; ++i) {
          size_t iu = static_cast<size_t>(i);
          EXPECT_DOUBLE_EQ(m1.peak_memory[iu], std::min(p - i, m));
          EXPECT_DOUBLE_EQ(m2.peak_memory[iu], std::min(2 * (p - i) - 1, m));
          EXPECT_DOUBLE_EQ(m1.makespan - m1.busy[iu], (p - 1) * (f + b - w));
          worst_window_idle = std::max(worst_window_idle, m2.window_idle[iu]);
        }
        EXPECT_DOUBLE_EQ(worst_window_idle, (p - 1) * (f + b - 2 * w));
      }
}

TEST(ClosedForm, ChimeraBidirectionalOrderOverAGrid) {
  // Chimera (arXiv 2107.06925), D even, N even >= D, F = B: bubble (D − 2)/(2N + D − 2), so
  // makespan (2N + D − 2)F. At N = D (the paper's basic unit) device i holds
  // D/2 + 1 + min(i, D − 1 − i) activations ((D/2 + 1)M_a at the ends … D·M_a in the middle).
  for (double f : {1.0, 1.5})
    for (int d : {2, 4, 6, 8})
      for (int n = d; n <= 4 * d; n += 2) {
        PlacementOptions o;
        o.devices = d;
        o.f = o.b = f;
        SCOPED_TRACE(::testing::Message() << "D=" << d << " N=" << n << " F=B=" << f);
        auto base = MakeBaseline("chimera", o, n);
        ASSERT_TRUE(base.ok()) << base.status();
        ASSERT_TRUE(ValidateSchedule(base->placement, base->schedule).ok());
        ScheduleMetrics mt = ComputeMetrics(base->placement, base->schedule);
        EXPECT_DOUBLE_EQ(mt.makespan, (2 * n + d - 2) * f);
        EXPECT_NEAR(mt.bubble_ratio, double(d - 2) / (2 * n + d - 2), 1e-12);
        for (int i = 0; i < d; ++i) {
          double peak = mt.peak_memory[static_cast<size_t>(i)];
          if (n == d)
            EXPECT_DOUBLE_EQ(peak, d / 2 + 1 + std::min(i, d - 1 - i)) << "device " << i;
          else
            EXPECT_LE(peak, d + 1) << "device " << i;  // two overlapping 1F1B streams
        }
      }
  // The formula is for F = B only: at B = 2F, D = N = 4, Tessel's Z3 optimum is 16 steps
  // (docs/systems/tessel.md §4) and the hand-built order cannot beat it.
  PlacementOptions o;
  o.f = 1;
  o.b = 2;
  auto base = MakeBaseline("chimera", o, 4);
  ASSERT_TRUE(base.ok()) << base.status();
  ASSERT_TRUE(ValidateSchedule(base->placement, base->schedule).ok());
  EXPECT_GE(ComputeMetrics(base->placement, base->schedule).makespan, 16);
  o.devices = 3;
  EXPECT_FALSE(MakeBaseline("chimera", o, 4).ok());
  o.devices = 4;
  EXPECT_FALSE(MakeBaseline("chimera", o, 5).ok());
}

TEST(ClosedForm, ZbvListScheduleOverAGrid) {
  // ZB-V (arXiv 2401.10241 §6) at F = B = W with 1F1B's activation memory: no device idles once
  // it has started except for the head of the V, so the makespan is m(F + B + W) + (p − 1)F/2
  // (device p − 1 cannot start before p − 1 forward chunks of F/2), which is also the static
  // lower bound: every device is busy m(F + B + W).
  for (double f : {2.0, 3.0})
    for (int p : {2, 3, 4, 6, 8})
      for (int m : {p, 2 * p, 3 * p, 4 * p}) {
        PlacementOptions o;
        o.devices = p;
        o.f = o.b = o.w = f;
        SCOPED_TRACE(::testing::Message() << "p=" << p << " m=" << m << " F=B=W=" << f);
        auto base = MakeBaseline("zbv", o, m);
        ASSERT_TRUE(base.ok()) << base.status();
        ASSERT_TRUE(ValidateSchedule(base->placement, base->schedule).ok());
        ScheduleMetrics mt = ComputeMetrics(base->placement, base->schedule);
        EXPECT_DOUBLE_EQ(mt.makespan, m * 3 * f + (p - 1) * f / 2);
        for (int i = 0; i < p; ++i) {
          size_t iu = static_cast<size_t>(i);
          EXPECT_DOUBLE_EQ(mt.busy[iu], m * 3 * f);
          EXPECT_LE(mt.peak_memory[iu], 2 * p);
        }
      }
}

class ValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PlacementOptions o;
    o.devices = 2;
    auto b = MakeBaseline("1f1b", o, 3);
    ASSERT_TRUE(b.ok());
    base_ = *b;
    ASSERT_TRUE(ValidateSchedule(base_.placement, base_.schedule).ok());
  }
  Baseline base_;
};

TEST_F(ValidatorTest, CatchesOverlapDependencyMemoryAndMissingOps) {
  Schedule s = base_.schedule;
  // Overlap: move the second op on device 0 onto the first.
  auto order = DeviceOrders(base_.placement, s);
  Schedule o1 = s;
  o1.ops[static_cast<size_t>(order[0][1])].start = o1.ops[static_cast<size_t>(order[0][0])].start;
  Status st = ValidateSchedule(base_.placement, o1);
  EXPECT_FALSE(st.ok());
  // Dependency: start every op at time 0 + its index (order preserved per device is lost).
  Schedule o2 = s;
  for (Op& op : o2.ops)
    if (base_.placement.blocks[static_cast<size_t>(op.block)].name == "b0" && op.mid == 0)
      op.start -= 1;
  st = ValidateSchedule(base_.placement, o2);
  EXPECT_NE(st.message().find("dependency 'b1' -> 'b0'"), std::string::npos) << st;
  // Memory: a cap below 1F1B's peak on stage 0.
  Placement capped = base_.placement;
  capped.SetCap(1);
  st = ValidateSchedule(capped, s);
  EXPECT_NE(st.message().find("device 0: memory 2 exceeds cap 1"), std::string::npos) << st;
  // Missing and duplicated ops.
  Schedule o3 = s;
  o3.ops.pop_back();
  EXPECT_NE(ValidateSchedule(base_.placement, o3).message().find("missing"), std::string::npos);
  Schedule o4 = s;
  o4.ops.push_back(o4.ops[0]);
  EXPECT_NE(ValidateSchedule(base_.placement, o4).message().find("twice"), std::string::npos);
}

TEST(ListSchedule, StallsWithAStatusWhenMemoryIsNeverFreed) {
  Placement p;
  p.name = "leak";
  p.num_devices = 1;
  p.AddBlock("keep", BlockType::kForward, {0}, 1, 1);  // holds its memory forever
  p.SetCap(1);
  auto a = Analyze(p);
  ASSERT_TRUE(a.ok()) << a.status();
  auto one = ListSchedule(p, *a, 1);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_TRUE(ValidateSchedule(p, *one).ok());
  auto two = ListSchedule(p, *a, 2);
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(two.status().message().find("1 ops left"), std::string::npos) << two.status();
  SearchOptions so;  // the search treats the stall as "no second incumbent", not a crash
  so.num_micro = 2;
  EXPECT_FALSE(Search(p, so).ok());
}

TEST(Simulator, DeadlockedOrdersAreReported) {
  PlacementOptions o;
  o.devices = 2;
  auto p = MakePlacement("vshape", o);
  ASSERT_TRUE(p.ok());
  auto a = Analyze(*p);
  int f0 = p->FindBlock("f0"), f1 = p->FindBlock("f1"), b0 = p->FindBlock("b0"),
      b1 = p->FindBlock("b1");
  // Device 0 wants b0 before f0: b0 depends on f0 through the chain.
  std::vector<std::vector<OrderItem>> orders = {{{b0, 0}, {f0, 0}}, {{f1, 0}, {b1, 0}}};
  auto s = ExecuteOrders(*p, *a, 1, orders);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("deadlock"), std::string::npos) << s.status();
}

}  // namespace
}  // namespace loom::tessel
