// Sampling and generation; see generate.h.
#include "loom/phi/generate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "loom/base/timer.h"

namespace loom::phi {

int32_t Sampler::Next(std::span<const float> logits, std::span<const int32_t> history) {
  const size_t n = o_.vocab_limit > 0
                       ? std::min(logits.size(), static_cast<size_t>(o_.vocab_limit))
                       : logits.size();
  std::vector<float> x(logits.begin(), logits.begin() + static_cast<std::ptrdiff_t>(n));
  if (o_.repetition_penalty != 1.0f) {
    std::vector<bool> seen(n, false);
    for (int32_t id : history)
      if (id >= 0 && static_cast<size_t>(id) < n && !seen[id]) {
        seen[id] = true;
        x[id] = x[id] < 0 ? x[id] * o_.repetition_penalty : x[id] / o_.repetition_penalty;
      }
  }
  if (o_.temperature <= 0.0f)
    return static_cast<int32_t>(std::max_element(x.begin(), x.end()) - x.begin());
  for (float& v : x) v /= o_.temperature;
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return x[a] > x[b]; });
  size_t keep = n;
  if (o_.top_k > 0) keep = std::min(keep, static_cast<size_t>(o_.top_k));
  const float mx = x[order[0]];
  std::vector<double> p(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) sum += p[i] = std::exp(double(x[order[i]]) - mx);
  if (o_.top_p < 1.0f) {
    // Keep the smallest prefix whose mass reaches top_p (at least one token).
    double cum = 0;
    size_t k = 0;
    while (k < keep) {
      cum += p[k] / sum;
      ++k;
      if (cum >= o_.top_p) break;
    }
    keep = k;
    sum = std::accumulate(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(keep), 0.0);
  }
  double u = rng_.UniformDouble() * sum;
  for (size_t i = 0; i < keep; ++i) {
    u -= p[i];
    if (u <= 0) return order[i];
  }
  return order[keep - 1];
}

StatusOr<GenerateResult> Generate(const PhiModel& model, std::span<const int32_t> prompt,
                                  const GenerateOptions& options,
                                  const std::function<bool(int32_t)>& on_token) {
  if (prompt.empty()) return InvalidArgumentError("generate: empty prompt");
  const PhiConfig& c = model.config();
  GenerateResult result;
  std::vector<int32_t> seq(prompt.begin(), prompt.end());
  KvCache cache = model.NewCache();
  Sampler sampler(options.sampling);
  std::vector<float> logits;
  Stopwatch sw;
  LOOM_RETURN_IF_ERROR(model.Forward(seq, cache, logits));
  result.prefill_seconds = sw.ElapsedSeconds();
  Stopwatch decode;
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    const int32_t id = sampler.Next(logits, seq);
    seq.push_back(id);
    result.tokens.push_back(id);
    const bool stop = std::find(options.stop_ids.begin(), options.stop_ids.end(), id) !=
                      options.stop_ids.end();
    if (on_token && !on_token(id)) break;
    if (stop) {
      result.stopped = true;
      break;
    }
    if (step + 1 == options.max_new_tokens) break;
    if (c.longrope && cache.length <= c.longrope->original_max_position &&
        static_cast<int64_t>(seq.size()) > c.longrope->original_max_position) {
      cache.Clear();  // HF: the short-factor keys are invalid once the long set applies
      LOOM_RETURN_IF_ERROR(model.Forward(seq, cache, logits));
    } else {
      LOOM_RETURN_IF_ERROR(model.Forward({&seq.back(), 1}, cache, logits));
    }
  }
  result.decode_seconds = decode.ElapsedSeconds();
  return result;
}

}  // namespace loom::phi
