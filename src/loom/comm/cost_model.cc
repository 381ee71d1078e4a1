// The α-β-γ closed forms (cost_model.h).
#include "loom/comm/cost_model.h"

#include "loom/base/strings.h"

namespace loom::comm {

namespace {

int CeilLog2(int p) {
  int k = 0;
  while ((1 << k) < p) ++k;
  return k;
}

int FloorPow2(int p) {
  int q = 1;
  while (q * 2 <= p) q *= 2;
  return q;
}

}  // namespace

std::vector<Algorithm> ModelledAlgorithms(CollectiveKind kind, int ranks) {
  std::vector<Algorithm> out;
  for (Algorithm a :
       {Algorithm::kRing, Algorithm::kHalvingDoubling, Algorithm::kRecursiveDoubling,
        Algorithm::kBruck, Algorithm::kBinomial, Algorithm::kPairwise, Algorithm::kLinear})
    if (Implements(a, kind, ranks)) out.push_back(a);
  return out;
}

StatusOr<double> ModelSeconds(CollectiveKind kind, Algorithm a, int p, size_t bytes,
                              const CostParams& c) {
  if (p < 1) return InvalidArgumentError(StrCat("cost model: ", p, " ranks"));
  bool ok = false;
  for (Algorithm m : ModelledAlgorithms(kind, p)) ok = ok || m == a;
  if (!ok)
    return InvalidArgumentError(StrCat("cost model: ", AlgorithmName(a), " does not implement ",
                                       CollectiveKindName(kind), " at ", p, " ranks"));
  if (p == 1) return 0.0;
  const double n = static_cast<double>(bytes), pd = p, al = c.alpha_s, be = c.beta_s_per_byte,
               ga = c.gamma_s_per_byte;
  const double lg = CeilLog2(p);
  const double share = (pd - 1) / pd * n;  // (p−1)/p·n
  switch (kind) {
    case CollectiveKind::kAllReduce: {
      const int q = FloorPow2(p);
      const double qd = q, lgq = CeilLog2(q);
      const double fold = q == p ? 0.0 : (al + n * be + n * ga) + (al + n * be);
      if (a == Algorithm::kRing) return 2 * (pd - 1) * al + 2 * share * be + share * ga;
      if (a == Algorithm::kHalvingDoubling)
        return 2 * lgq * al + 2 * (qd - 1) / qd * n * be + (qd - 1) / qd * n * ga + fold;
      return lgq * (al + n * be + n * ga) + fold;  // recursive doubling
    }
    case CollectiveKind::kAllGather:
      return (a == Algorithm::kRing ? pd - 1 : lg) * al + share * be;
    case CollectiveKind::kReduceScatter:
      return (pd - 1) * al + share * (be + ga);
    case CollectiveKind::kAllToAll:
    case CollectiveKind::kAllToAllV:
      return (pd - 1) * al + share * be;
    case CollectiveKind::kBroadcast:
      return lg * (al + n * be);
    case CollectiveKind::kReduce:
      return lg * (al + n * be + n * ga);
    case CollectiveKind::kGather:
    case CollectiveKind::kScatter:
      return (a == Algorithm::kBinomial ? lg : pd - 1) * al + share * be;
    case CollectiveKind::kBarrier:
      break;  // no algorithm implements it (Implements)
  }
  return InvalidArgumentError("cost model: unknown collective");
}

StatusOr<Algorithm> ModelChoice(CollectiveKind kind, int ranks, size_t bytes,
                                const CostParams& params) {
  const std::vector<Algorithm> algos = ModelledAlgorithms(kind, ranks);
  if (algos.empty())
    return InvalidArgumentError(StrCat("cost model: no algorithm for ", CollectiveKindName(kind)));
  Algorithm best = algos[0];
  double best_s = 0;
  for (size_t i = 0; i < algos.size(); ++i) {
    LOOM_ASSIGN_OR_RETURN(double s, ModelSeconds(kind, algos[i], ranks, bytes, params));
    if (i == 0 || s < best_s) {
      best = algos[i];
      best_s = s;
    }
  }
  return best;
}

StatusOr<CostParams> FitAlphaBeta(const std::vector<std::pair<size_t, double>>& one_way) {
  // Weighted normal equations for t ≈ α + b·β with weights w = 1/t².
  double sw = 0, sb = 0, sbb = 0, st = 0, sbt = 0;
  size_t first = 0;
  bool distinct = false;
  for (size_t i = 0; i < one_way.size(); ++i) {
    const double b = static_cast<double>(one_way[i].first), t = one_way[i].second;
    if (!(t > 0))
      return InvalidArgumentError(
          StrCat("fit: time ", t, " s at ", one_way[i].first, " B is not positive"));
    if (i == 0) first = one_way[i].first;
    distinct = distinct || one_way[i].first != first;
    const double w = 1 / (t * t);
    sw += w;
    sb += w * b;
    sbb += w * b * b;
    st += w * t;
    sbt += w * b * t;
  }
  if (!distinct) return InvalidArgumentError("fit: needs times at two or more message sizes");
  CostParams c;
  const double det = sw * sbb - sb * sb;
  c.alpha_s = (st * sbb - sb * sbt) / det;
  c.beta_s_per_byte = (sw * sbt - sb * st) / det;
  if (c.alpha_s < 0) {  // refit through the origin: t ≈ b·β
    c.alpha_s = 0;
    c.beta_s_per_byte = sbt / sbb;
  }
  if (c.beta_s_per_byte < 0) c.beta_s_per_byte = 0;
  return c;
}

}  // namespace loom::comm
