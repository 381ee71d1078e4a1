#include "loom/w2v/checkpoint.h"

#include <cstring>

#include "loom/base/file_io.h"
#include "loom/base/json.h"
#include "loom/base/strings.h"

namespace loom::w2v {
namespace {
constexpr char kMagic[8] = {'L', 'O', 'O', 'M', 'W', '2', 'V', '1'};

void AppendMatrix(std::string* out, const std::vector<float>& m) {
  out->append(reinterpret_cast<const char*>(m.data()), m.size() * sizeof(float));
}
}  // namespace

Status SaveCheckpoint(const std::string& path, const TrainOptions& o, const Vocabulary& vocab,
                      const Model& model, const TrainState& state) {
  std::string vocab_text;
  for (int64_t i = 0; i < vocab.size(); ++i) vocab_text += StrCat(vocab.word(i), " ", vocab.count(i), "\n");
  Json rng = Json::array();
  for (uint64_t r : state.rng) rng.push_back(StrCat(r));  // as strings: JSON numbers are doubles
  Json header = {{"dim", model.dim}, {"vocab_size", model.vocab_size}, {"window", o.window},
                 {"sample", o.sample}, {"hs", o.hs}, {"negative", o.negative}, {"threads", o.threads},
                 {"iter", o.iter}, {"min_count", o.min_count}, {"alpha", o.alpha}, {"cbow", o.cbow},
                 {"batched", o.mode == Mode::kBatched}, {"batch_size", o.batch_size},
                 {"seed", StrCat(o.seed)}, {"epochs_done", state.epochs_done},
                 {"words_done", state.words_done}, {"rng", rng}, {"alpha_state", state.alpha},
                 {"vocab_bytes", vocab_text.size()}};
  std::string h = header.dump();
  std::string out(kMagic, 8);
  uint64_t hl = h.size();
  out.append(reinterpret_cast<const char*>(&hl), 8);
  out += h;
  out += vocab_text;
  AppendMatrix(&out, model.syn0);
  AppendMatrix(&out, model.syn1);
  AppendMatrix(&out, model.syn1neg);
  return WriteFileAtomically(path, out);
}

StatusOr<Checkpoint> LoadCheckpoint(const std::string& path) {
  LOOM_ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  std::string_view s = file->view();
  if (s.size() < 16 || std::memcmp(s.data(), kMagic, 8) != 0)
    return DataLossError(StrCat(path, ": not a loom w2v checkpoint (bad magic or truncated)"));
  uint64_t hl;
  std::memcpy(&hl, s.data() + 8, 8);
  if (hl > s.size() - 16) return DataLossError(StrCat(path, ": truncated header"));
  LOOM_ASSIGN_OR_RETURN(JsonValue h, ParseJson(s.substr(16, hl), path));
  Checkpoint c;
  TrainOptions& o = c.options;
  LOOM_ASSIGN_OR_RETURN(o.dim, h.GetInt("dim"));
  LOOM_ASSIGN_OR_RETURN(int64_t v, h.GetInt("vocab_size"));
  LOOM_ASSIGN_OR_RETURN(int64_t window, h.GetInt("window"));
  o.window = static_cast<int>(window);
  LOOM_ASSIGN_OR_RETURN(double sample, h.GetDouble("sample"));
  o.sample = static_cast<float>(sample);
  LOOM_ASSIGN_OR_RETURN(o.hs, h.GetBool("hs"));
  LOOM_ASSIGN_OR_RETURN(int64_t neg, h.GetInt("negative"));
  o.negative = static_cast<int>(neg);
  LOOM_ASSIGN_OR_RETURN(int64_t threads, h.GetInt("threads"));
  o.threads = static_cast<int>(threads);
  LOOM_ASSIGN_OR_RETURN(int64_t iter, h.GetInt("iter"));
  o.iter = static_cast<int>(iter);
  LOOM_ASSIGN_OR_RETURN(o.min_count, h.GetInt("min_count"));
  LOOM_ASSIGN_OR_RETURN(double alpha, h.GetDouble("alpha"));
  o.alpha = static_cast<float>(alpha);
  LOOM_ASSIGN_OR_RETURN(o.cbow, h.GetBool("cbow"));
  LOOM_ASSIGN_OR_RETURN(bool batched, h.GetBool("batched"));
  o.mode = batched ? Mode::kBatched : Mode::kExact;
  LOOM_ASSIGN_OR_RETURN(int64_t bs, h.GetInt("batch_size"));
  o.batch_size = static_cast<int>(bs);
  LOOM_ASSIGN_OR_RETURN(std::string seed, h.GetString("seed"));
  LOOM_ASSIGN_OR_RETURN(int64_t seed_v, ParseInt(seed, "seed"));
  o.seed = static_cast<uint64_t>(seed_v);
  LOOM_ASSIGN_OR_RETURN(int64_t epochs, h.GetInt("epochs_done"));
  c.state.epochs_done = static_cast<int>(epochs);
  LOOM_ASSIGN_OR_RETURN(c.state.words_done, h.GetInt("words_done"));
  LOOM_ASSIGN_OR_RETURN(JsonValue rng, h.Get("rng"));
  LOOM_ASSIGN_OR_RETURN(JsonValue alphas, h.Get("alpha_state"));
  LOOM_ASSIGN_OR_RETURN(auto rng_list, rng.Elements());
  LOOM_ASSIGN_OR_RETURN(auto alpha_list, alphas.Elements());
  for (const JsonValue& r : rng_list) {
    LOOM_ASSIGN_OR_RETURN(std::string rs, r.AsString());
    // Parse as unsigned: LCG states use all 64 bits.
    uint64_t x = 0;
    for (char ch : rs) {
      if (ch < '0' || ch > '9') return DataLossError(StrCat(path, ": bad rng state '", rs, "'"));
      x = x * 10 + static_cast<uint64_t>(ch - '0');
    }
    c.state.rng.push_back(x);
  }
  for (const JsonValue& a : alpha_list) {
    LOOM_ASSIGN_OR_RETURN(double av, a.AsDouble());
    c.state.alpha.push_back(static_cast<float>(av));
  }
  LOOM_ASSIGN_OR_RETURN(int64_t vb, h.GetInt("vocab_bytes"));
  LOOM_RETURN_IF_ERROR(o.Validate().WithContext(path));
  if (v < 2 || c.state.rng.size() != static_cast<size_t>(o.threads) || c.state.alpha.size() != c.state.rng.size())
    return DataLossError(StrCat(path, ": inconsistent header"));
  size_t pos = 16 + hl;
  if (vb < 0 || static_cast<uint64_t>(vb) > s.size() - pos) return DataLossError(StrCat(path, ": truncated vocabulary"));
  LOOM_ASSIGN_OR_RETURN(c.vocab, ParseVocab(s.substr(pos, static_cast<size_t>(vb)), 0, path));
  pos += static_cast<size_t>(vb);
  if (c.vocab.size() != v) return DataLossError(StrCat(path, ": vocabulary has ", c.vocab.size(), " entries, header says ", v));
  const size_t n = static_cast<size_t>(v * o.dim);
  size_t need = n * (1 + (o.hs ? 1 : 0) + (o.negative > 0 ? 1 : 0)) * sizeof(float);
  if (s.size() - pos != need)
    return DataLossError(StrCat(path, ": matrices have ", s.size() - pos, " bytes, expected ", need));
  c.model.vocab_size = v;
  c.model.dim = o.dim;
  auto take = [&](std::vector<float>* m) {
    m->resize(n);
    std::memcpy(m->data(), s.data() + pos, n * sizeof(float));
    pos += n * sizeof(float);
  };
  take(&c.model.syn0);
  if (o.hs) take(&c.model.syn1);
  if (o.negative > 0) take(&c.model.syn1neg);
  return c;
}

}  // namespace loom::w2v
