#include "loom/tessel/z3_verify.h"

#include <cmath>
#include <vector>

#include "loom/base/strings.h"
#include "loom/base/timer.h"

#ifdef LOOM_TESSEL_HAVE_Z3
#include <z3++.h>
#endif

namespace loom::tessel {

std::string Z3Verdict::ToString() const {
  switch (kind) {
    case Kind::kOptimal: return "Z3: optimal (no shorter schedule exists)";
    case Kind::kImprovable: return StrCat("Z3: a shorter schedule exists (", better_makespan, ")");
    case Kind::kUnknown: return "Z3: unknown (timeout)";
  }
  return "Z3: ?";
}

#ifdef LOOM_TESSEL_HAVE_Z3

bool HaveZ3() { return true; }

StatusOr<Z3Verdict> VerifyWithZ3(const Placement& p, int m, double makespan, int timeout_ms,
                                 int max_ops) {
  LOOM_RETURN_IF_ERROR(ValidatePlacement(p));
  const int n = static_cast<int>(p.blocks.size());
  if (static_cast<int64_t>(n) * m > max_ops)
    return InvalidArgumentError(StrCat("Z3 verify: ", n * m, " ops exceed the limit of ", max_ops));
  bool integral = true;
  for (const Block& b : p.blocks)
    for (double d : b.duration) integral = integral && d == std::floor(d);
  for (const Edge& e : p.edges) integral = integral && e.latency == std::floor(e.latency);
  Stopwatch sw;
  Z3Verdict v;
  try {
    z3::context c;
    z3::solver s(c);
    z3::params prm(c);
    prm.set("timeout", static_cast<unsigned>(timeout_ms));
    s.set(prm);
    auto num = [&](double x) {
      if (integral) return c.int_val(static_cast<int64_t>(std::llround(x)));
      return c.real_val(StrCat(x).c_str());
    };
    std::vector<z3::expr> st;
    for (int j = 0; j < m; ++j)
      for (int b = 0; b < n; ++b) {
        std::string name = StrCat("s_", b, "_", j);
        st.push_back(integral ? c.int_const(name.c_str()) : c.real_const(name.c_str()));
      }
    auto S = [&](int b, int j) { return st[static_cast<size_t>(j * n + b)]; };
    z3::expr cmax = integral ? c.int_const("C") : c.real_const("C");
    for (int j = 0; j < m; ++j)
      for (int b = 0; b < n; ++b) {
        s.add(S(b, j) >= num(0));
        s.add(cmax >= S(b, j) + num(p.blocks[static_cast<size_t>(b)].Span()));
      }
    for (int j = 0; j < m; ++j)
      for (const Edge& e : p.edges)
        s.add(S(e.to, j) >= S(e.from, j) + num(p.blocks[static_cast<size_t>(e.from)].Span() + e.latency));
    for (int d = 0; d < p.num_devices; ++d) {
      struct OpRef {
        int b, j;
        double dur, mem;
      };
      std::vector<OpRef> ops;
      for (int b = 0; b < n; ++b) {
        const Block& blk = p.blocks[static_cast<size_t>(b)];
        int k = blk.DeviceSlot(d);
        if (k < 0) continue;
        for (int j = 0; j < m; ++j)
          ops.push_back({b, j, blk.duration[static_cast<size_t>(k)], blk.memory[static_cast<size_t>(k)]});
      }
      for (size_t x = 0; x < ops.size(); ++x)
        for (size_t y = x + 1; y < ops.size(); ++y)
          s.add(S(ops[x].b, ops[x].j) + num(ops[x].dur) <= S(ops[y].b, ops[y].j) ||
                S(ops[y].b, ops[y].j) + num(ops[y].dur) <= S(ops[x].b, ops[x].j));
      double cap = p.Cap(d);
      if (cap == kNoCap) continue;
      for (size_t x = 0; x < ops.size(); ++x) {
        if (ops[x].mem <= 0) continue;  // the running total peaks at positive deltas
        z3::expr total = num(ops[x].mem);
        for (size_t y = 0; y < ops.size(); ++y)
          if (y != x && ops[y].mem != 0)
            total = total + z3::ite(S(ops[y].b, ops[y].j) <= S(ops[x].b, ops[x].j),
                                    num(ops[y].mem), num(0));
        s.add(total <= num(cap));
      }
    }
    double below = integral ? makespan - 1 : makespan * (1 - 1e-6);
    s.add(cmax <= num(below));
    z3::check_result r = s.check();
    if (r == z3::unsat) {
      v.kind = Z3Verdict::Kind::kOptimal;
    } else if (r == z3::sat) {
      v.kind = Z3Verdict::Kind::kImprovable;
      z3::model mdl = s.get_model();
      z3::expr val = mdl.eval(cmax, true);
      double out = 0;
      if (integral) {
        int64_t iv = 0;
        if (val.is_numeral_i64(iv)) out = static_cast<double>(iv);
      } else {
        std::string txt = val.get_decimal_string(12);
        if (!txt.empty() && txt.back() == '?') txt.pop_back();
        out = std::atof(txt.c_str());
      }
      v.better_makespan = out;
    }
  } catch (const z3::exception& e) {
    return InternalError(StrCat("Z3: ", e.msg()));
  }
  v.seconds = sw.ElapsedSeconds();
  return v;
}

#else

bool HaveZ3() { return false; }

StatusOr<Z3Verdict> VerifyWithZ3(const Placement&, int, double, int, int) {
  return UnavailableError("loom was built without Z3 (install libz3-dev and reconfigure)");
}

#endif

}  // namespace loom::tessel
