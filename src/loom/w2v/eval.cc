#include "loom/w2v/eval.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <unordered_map>

#include "loom/base/strings.h"
#include "loom/base/thread_pool.h"

namespace loom::w2v {
namespace {

std::string Upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

// Rows normalised as compute-accuracy does: float sum of squares, sqrt, divide.
std::vector<float> Normalised(const WordVectors& v) {
  std::vector<float> m = v.data;
  const int64_t d = v.dim;
  for (size_t w = 0; w < v.words.size(); ++w) {
    float* r = m.data() + static_cast<int64_t>(w) * d;
    float len = 0;
    for (int64_t a = 0; a < d; ++a) len += r[a] * r[a];
    len = static_cast<float>(std::sqrt(static_cast<double>(len)));
    for (int64_t a = 0; a < d; ++a) r[a] /= len;
  }
  return m;
}

std::string Line(const char* fmt, double a, int b = 0, int c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), fmt, a, b, c);
  return buf;
}

}  // namespace

AnalogyReport EvaluateAnalogies(const WordVectors& vectors, std::string_view questions) {
  const int64_t d = vectors.dim;
  const int64_t words = static_cast<int64_t>(vectors.words.size());
  std::vector<std::string> vocab(static_cast<size_t>(words));
  for (int64_t b = 0; b < words; ++b)
    vocab[static_cast<size_t>(b)] = Upper(std::string_view(vectors.words[static_cast<size_t>(b)]).substr(0, 50));
  std::unordered_map<std::string, int64_t> first;
  for (int64_t b = words - 1; b >= 0; --b) first[vocab[static_cast<size_t>(b)]] = b;
  std::vector<float> m = Normalised(vectors);

  // Tokens as scanf("%s") sees them.
  std::vector<std::string> tok;
  size_t p = 0;
  while (p < questions.size()) {
    while (p < questions.size() && std::isspace(static_cast<unsigned char>(questions[p]))) ++p;
    size_t e = p;
    while (e < questions.size() && !std::isspace(static_cast<unsigned char>(questions[e]))) ++e;
    if (e > p) tok.emplace_back(questions.substr(p, e - p));
    p = e;
  }
  // Pass 1: the control flow of compute-accuracy, collecting questions; pass 2 answers them
  // in parallel; pass 3 replays the counters and output in order.
  struct Q { int64_t b1, b2, b3, b4; int qid; };
  struct Event { int kind; std::string name; int q; };  // 0 section end+name, 1 question, 2 final end
  std::vector<Q> qs;
  std::vector<Event> events;
  size_t t = 0;
  int qid = 0;
  // Question words are upper-cased; section names are printed as written.
  auto next_raw = [&](std::string* s) { if (t < tok.size()) { *s = tok[t++]; return true; } return false; };
  auto next = [&](std::string* s) { bool ok = next_raw(s); *s = Upper(*s); return ok; };
  auto find = [&](const std::string& s) { auto it = first.find(s); return it == first.end() ? words : it->second; };
  std::string st1, st2, st3, st4;
  while (true) {
    bool eof = !next(&st1);
    if (st1 == ":" || st1 == "EXIT" || eof) {
      std::string name;
      bool more = next_raw(&name);
      events.push_back({more ? 0 : 2, name, qid});
      qid++;
      if (!more) break;
      continue;
    }
    next(&st2);
    next(&st3);
    next(&st4);
    qs.push_back({find(st1), find(st2), find(st3), find(st4), qid});
    events.push_back({1, st4, static_cast<int>(qs.size() - 1)});
  }
  std::vector<int64_t> answer(qs.size(), -2);
  // Only questions whose four words are known are answered.
  std::vector<size_t> live;
  for (size_t i = 0; i < qs.size(); ++i)
    if (qs[i].b1 != words && qs[i].b2 != words && qs[i].b3 != words && qs[i].b4 != words) live.push_back(i);
  // Blocks of kLanes questions scan the vocabulary together: each lane keeps
  // compute-accuracy's own left-to-right float sum (so results are bit-identical), and the
  // lanes are independent, so the compiler vectorises across questions.
  constexpr int64_t kLanes = 16;
  const int64_t blocks = (static_cast<int64_t>(live.size()) + kLanes - 1) / kLanes;
  DefaultThreadPool().ParallelFor(blocks, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> vt(static_cast<size_t>(d * kLanes));  // [a][lane]
    for (int64_t blk = lo; blk < hi; ++blk) {
      int64_t n = std::min<int64_t>(kLanes, static_cast<int64_t>(live.size()) - blk * kLanes);
      const Q* q[kLanes];
      for (int64_t l = 0; l < kLanes; ++l) {
        q[l] = &qs[live[static_cast<size_t>(blk * kLanes + std::min(l, n - 1))]];
        const float* m1 = m.data() + q[l]->b1 * d;
        const float* m2 = m.data() + q[l]->b2 * d;
        const float* m3 = m.data() + q[l]->b3 * d;
        for (int64_t a = 0; a < d; ++a) vt[static_cast<size_t>(a * kLanes + l)] = (m2[a] - m1[a]) + m3[a];
      }
      float bestd[kLanes];
      int64_t best[kLanes];
      for (int64_t l = 0; l < kLanes; ++l) {
        bestd[l] = 0;
        best[l] = -1;
      }
      for (int64_t c = 0; c < words; ++c) {
        const float* mc = m.data() + c * d;
        float dist[kLanes] = {0};
        for (int64_t a = 0; a < d; ++a) {
          const float x = mc[a];
          const float* v = vt.data() + a * kLanes;
          for (int64_t l = 0; l < kLanes; ++l) dist[l] += v[l] * x;
        }
        for (int64_t l = 0; l < n; ++l) {
          if (c == q[l]->b1 || c == q[l]->b2 || c == q[l]->b3) continue;
          if (dist[l] > bestd[l]) {
            bestd[l] = dist[l];
            best[l] = c;
          }
        }
      }
      for (int64_t l = 0; l < n; ++l) answer[live[static_cast<size_t>(blk * kLanes + l)]] = best[l];
    }
  });
  AnalogyReport r;
  int tcn = 0, ccn = 0, tacn = 0, cacn = 0, secn = 0, sycn = 0, seac = 0, syac = 0, sections = 0;
  for (const Event& ev : events) {
    if (ev.kind == 1) {
      const Q& q = qs[static_cast<size_t>(ev.q)];
      r.total++;
      int64_t best = answer[static_cast<size_t>(ev.q)];
      if (best == -2) continue;
      r.seen++;
      // Correct when the predicted entry's (upper-cased) string equals the expected word.
      bool ok = best >= 0 && vocab[static_cast<size_t>(best)] == ev.name;
      if (ok) {
        ccn++;
        cacn++;
        if (q.qid <= 5) seac++; else syac++;
      }
      if (q.qid <= 5) secn++; else sycn++;
      tcn++;
      tacn++;
      continue;
    }
    if (tcn == 0) tcn = 1;
    if (sections != 0) {
      r.text += Line("ACCURACY TOP1: %.2f %%  (%d / %d)\n", ccn / static_cast<float>(tcn) * 100, ccn, tcn);
      char buf[256];
      std::snprintf(buf, sizeof(buf),
                    "Total accuracy: %.2f %%   Semantic accuracy: %.2f %%   Syntactic accuracy: %.2f %% \n",
                    static_cast<double>(cacn / static_cast<float>(tacn) * 100),
                    static_cast<double>(seac / static_cast<float>(secn) * 100),
                    static_cast<double>(syac / static_cast<float>(sycn) * 100));
      r.text += buf;
    }
    sections++;
    if (ev.kind == 2) break;
    r.text += ev.name + ":\n";
    tcn = 0;
    ccn = 0;
  }
  char buf[128];
  std::snprintf(buf, sizeof(buf), "Questions seen / total: %d %d   %.2f %% \n", r.seen, r.total,
                static_cast<double>(r.seen / static_cast<float>(r.total) * 100));
  r.text += buf;
  r.correct = cacn;
  r.semantic_seen = secn;
  r.semantic_correct = seac;
  r.syntactic_seen = sycn;
  r.syntactic_correct = syac;
  return r;
}

double Spearman(const std::vector<double>& x, const std::vector<double>& y) {
  auto ranks = [](const std::vector<double>& v) {
    std::vector<size_t> idx(v.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    std::vector<double> r(v.size());
    for (size_t i = 0; i < idx.size();) {
      size_t j = i;
      while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
      double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
      for (size_t k = i; k <= j; ++k) r[idx[k]] = avg;
      i = j + 1;
    }
    return r;
  };
  auto pearson = [](const std::vector<double>& a, const std::vector<double>& b) {
    double n = static_cast<double>(a.size()), ma = 0, mb = 0;
    for (size_t i = 0; i < a.size(); ++i) { ma += a[i]; mb += b[i]; }
    ma /= n;
    mb /= n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      sab += (a[i] - ma) * (b[i] - mb);
      saa += (a[i] - ma) * (a[i] - ma);
      sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / std::sqrt(saa * sbb);
  };
  return pearson(ranks(x), ranks(y));
}

namespace {

std::unordered_map<std::string, int64_t> CaseInsensitiveIndex(const WordVectors& v) {
  std::unordered_map<std::string, int64_t> idx;
  for (int64_t i = static_cast<int64_t>(v.words.size()) - 1; i >= 0; --i)
    idx[Upper(v.words[static_cast<size_t>(i)])] = i;
  return idx;
}

double Cosine(const float* a, const float* b, int64_t d) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t i = 0; i < d; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

}  // namespace

StatusOr<WordSimReport> EvaluateWordSim(const WordVectors& vectors, std::string_view tsv,
                                        const std::string& source) {
  auto idx = CaseInsensitiveIndex(vectors);
  std::vector<double> model, gold;
  WordSimReport r;
  int line_no = 0;
  for (std::string_view line : StrSplit(tsv, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    auto parts = StrSplit(line, '\t');
    if (parts.size() != 3)
      return InvalidArgumentError(StrCat(source, ":", line_no, ": expected 'word1<TAB>word2<TAB>score'"));
    auto score = ParseDouble(parts[2], StrCat(source, ":", line_no, " score"));
    if (!score.ok()) return score.status();
    auto a = idx.find(Upper(parts[0]));
    auto b = idx.find(Upper(parts[1]));
    if (a == idx.end() || b == idx.end()) {
      r.oov++;
      continue;
    }
    model.push_back(Cosine(vectors.row(a->second), vectors.row(b->second), vectors.dim));
    gold.push_back(*score);
  }
  r.pairs = static_cast<int>(gold.size());
  if (r.pairs + r.oov == 0) return InvalidArgumentError(StrCat(source, ": no word pairs"));
  r.oov_ratio = 100.0 * r.oov / (r.oov + r.pairs);
  if (r.pairs >= 2) {
    r.spearman = Spearman(model, gold);
    double n = r.pairs, mm = 0, mg = 0, sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < r.pairs; ++i) { mm += model[static_cast<size_t>(i)]; mg += gold[static_cast<size_t>(i)]; }
    mm /= n;
    mg /= n;
    for (int i = 0; i < r.pairs; ++i) {
      double x = model[static_cast<size_t>(i)] - mm, y = gold[static_cast<size_t>(i)] - mg;
      sab += x * y;
      saa += x * x;
      sbb += y * y;
    }
    r.pearson = sab / std::sqrt(saa * sbb);
  }
  return r;
}

namespace {

Neighbours Nearest(const WordVectors& v, std::vector<double> q, const std::vector<int64_t>& exclude, int k) {
  double qn = 0;
  for (double x : q) qn += x * x;
  qn = std::sqrt(qn);
  std::vector<std::pair<double, int64_t>> scored;
  for (int64_t w = 0; w < static_cast<int64_t>(v.words.size()); ++w) {
    if (std::find(exclude.begin(), exclude.end(), w) != exclude.end()) continue;
    const float* r = v.row(w);
    double dot = 0, n = 0;
    for (int64_t i = 0; i < v.dim; ++i) {
      dot += q[static_cast<size_t>(i)] * r[i];
      n += static_cast<double>(r[i]) * r[i];
    }
    if (n == 0 || qn == 0) continue;
    scored.push_back({dot / (qn * std::sqrt(n)), w});
  }
  size_t top = std::min(scored.size(), static_cast<size_t>(std::max(k, 0)));
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(top), scored.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  Neighbours out;
  for (size_t i = 0; i < top; ++i)
    out.push_back({v.words[static_cast<size_t>(scored[i].second)], static_cast<float>(scored[i].first)});
  return out;
}

StatusOr<int64_t> Lookup(const WordVectors& v, const std::string& word) {
  for (size_t i = 0; i < v.words.size(); ++i)
    if (v.words[i] == word) return static_cast<int64_t>(i);
  return NotFoundError(StrCat("word '", word, "' is not in the vocabulary"));
}

std::vector<double> UnitRow(const WordVectors& v, int64_t w) {
  std::vector<double> r(static_cast<size_t>(v.dim));
  double n = 0;
  for (int64_t i = 0; i < v.dim; ++i) n += static_cast<double>(v.row(w)[i]) * v.row(w)[i];
  n = n > 0 ? std::sqrt(n) : 1;
  for (int64_t i = 0; i < v.dim; ++i) r[static_cast<size_t>(i)] = v.row(w)[i] / n;
  return r;
}

}  // namespace

StatusOr<Neighbours> Similar(const WordVectors& vectors, const std::string& word, int k) {
  LOOM_ASSIGN_OR_RETURN(int64_t w, Lookup(vectors, word));
  return Nearest(vectors, UnitRow(vectors, w), {w}, k);
}

StatusOr<Neighbours> Analogy(const WordVectors& vectors, const std::string& a, const std::string& b,
                             const std::string& c, int k) {
  LOOM_ASSIGN_OR_RETURN(int64_t ia, Lookup(vectors, a));
  LOOM_ASSIGN_OR_RETURN(int64_t ib, Lookup(vectors, b));
  LOOM_ASSIGN_OR_RETURN(int64_t ic, Lookup(vectors, c));
  auto ua = UnitRow(vectors, ia), ub = UnitRow(vectors, ib), uc = UnitRow(vectors, ic);
  std::vector<double> q(ua.size());
  for (size_t i = 0; i < q.size(); ++i) q[i] = ub[i] - ua[i] + uc[i];
  return Nearest(vectors, q, {ia, ib, ic}, k);
}

}  // namespace loom::w2v
