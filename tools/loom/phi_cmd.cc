// `loom phi generate | chat | inspect | bench | logits | quantize | make-random` and the phi stage
// of `loom demo`.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "loom/base/aligned_buffer.h"
#include "loom/base/file_io.h"
#include "loom/base/huge_pages.h"
#include "loom/base/logging.h"
#include "loom/base/random.h"
#include "loom/base/strings.h"
#include "loom/base/thread_pool.h"
#include "loom/base/timer.h"
#include "loom/phi/chat_template.h"
#include "loom/phi/generate.h"
#include "loom/phi/gguf.h"
#include "loom/phi/gguf_phi.h"
#include "loom/phi/model.h"
#include "loom/phi/quant.h"
#include "loom/phi/random_checkpoint.h"
#include "loom/phi/reference.h"
#include "loom/phi/safetensors.h"
#include "loom/phi/tokenizer.h"
#include "loom/phi/weights.h"
#include "loom/tensor/gemm.h"

#include "cli.h"
#include "table.h"

#ifndef LOOM_PHI_DEMO_MODEL
#define LOOM_PHI_DEMO_MODEL ""
#endif

namespace loom::cli {
namespace {

using phi::PhiModel;

struct GenOpts {
  std::string model;
  std::string prompt;
  int64_t max_new_tokens = 64;
  float temperature = 0.0f;
  int64_t top_k = 0;
  float top_p = 1.0f;
  float repetition_penalty = 1.0f;
  bool chat = false;
  std::string system;
  std::string weights = "f32";
};

void AddGenFlags(CLI::App* cmd, GenOpts& o) {
  cmd->add_option("--model", o.model, "HF model directory (config.json, *.safetensors, "
                  "tokenizer.json)")->required();
  cmd->add_option("--max-new-tokens", o.max_new_tokens, "Tokens to generate");
  cmd->add_option("--temperature", o.temperature, "0 = greedy");
  cmd->add_option("--top-k", o.top_k, "Keep the k most likely tokens (0 = off)");
  cmd->add_option("--top-p", o.top_p, "Nucleus mass (1 = off)");
  cmd->add_option("--repetition-penalty", o.repetition_penalty, "HF repetition penalty");
  cmd->add_option("--system", o.system, "System message (chat formats)");
  cmd->add_option("--weights", o.weights, "Weight format at run time: f32 | f16 | q8_0 | q4_0");
}

StatusOr<std::unique_ptr<PhiModel>> LoadModel(const std::string& dir, const std::string& weights) {
  LOOM_ASSIGN_OR_RETURN(phi::WeightType type, phi::ParseWeightType(weights));
  LOOM_ASSIGN_OR_RETURN(auto model, PhiModel::Load(dir));
  LOOM_RETURN_IF_ERROR(model->Quantize(type));
  return model;
}

// Picks the chat format from the tokenizer's special tokens.
phi::ChatFormat FormatFor(const phi::Tokenizer& tok) {
  if (tok.TokenId("<|im_start|>")) return phi::ChatFormat::kPhi4;
  if (tok.TokenId("<|end|>")) return phi::ChatFormat::kPhi3;
  return phi::ChatFormat::kInstruct;
}

std::vector<int32_t> StopIds(const PhiModel& model, const phi::Tokenizer& tok,
                             phi::ChatFormat f) {
  std::vector<int32_t> ids;
  for (int64_t id : model.config().eos_ids) ids.push_back(static_cast<int32_t>(id));
  for (const auto& text : phi::StopTokenTexts(f))
    if (auto id = tok.TokenId(text)) ids.push_back(*id);
  return ids;
}

phi::GenerateOptions ToGenerate(const Context& ctx, const GenOpts& o, const phi::Tokenizer& tok) {
  phi::GenerateOptions g;
  g.max_new_tokens = o.max_new_tokens;
  g.sampling.temperature = o.temperature;
  g.sampling.top_k = o.top_k;
  g.sampling.top_p = o.top_p;
  g.sampling.repetition_penalty = o.repetition_penalty;
  g.sampling.seed = ctx.globals.seed;
  g.sampling.vocab_limit = tok.vocab_size();  // padded rows are never sampled
  return g;
}

// Streams decoded text: prints the longest decodable prefix growth after each token.
struct Streamer {
  const phi::Tokenizer& tok;
  std::vector<int32_t> ids;
  size_t printed = 0;
  bool operator()(int32_t id) {
    ids.push_back(id);
    const std::string text = tok.Decode(ids, /*skip_special=*/true);
    if (text.size() > printed) {
      std::cout << text.substr(printed) << std::flush;
      printed = text.size();
    }
    return true;
  }
};

Status RunGenerate(Context& ctx, const GenOpts& o) {
  LOOM_ASSIGN_OR_RETURN(auto model, LoadModel(o.model, o.weights));
  LOOM_ASSIGN_OR_RETURN(auto tok, phi::LoadTokenizer(o.model));
  const phi::ChatFormat format = FormatFor(*tok);
  std::string prompt = o.prompt;
  if (o.chat) {
    std::vector<phi::ChatMessage> messages;
    if (!o.system.empty()) messages.push_back({"system", o.system});
    messages.push_back({"user", o.prompt});
    LOOM_ASSIGN_OR_RETURN(prompt, phi::RenderChat(format, messages, true));
  }
  const std::vector<int32_t> ids = tok->Encode(prompt);
  phi::GenerateOptions g = ToGenerate(ctx, o, *tok);
  g.stop_ids = StopIds(*model, *tok, format);
  Streamer stream{*tok, {}, 0};
  if (!ctx.globals.json) std::cout << o.prompt << std::flush;
  LOOM_ASSIGN_OR_RETURN(auto r, phi::Generate(*model, ids, g, [&](int32_t id) {
    return ctx.globals.json ? true : stream(id);
  }));
  if (!ctx.globals.json) std::cout << "\n";
  const double prefill_tps = ids.size() / std::max(r.prefill_seconds, 1e-9);
  const double decode_tps = r.tokens.size() / std::max(r.decode_seconds, 1e-9);
  ctx.Emit({{"prompt_tokens", ids.size()}, {"generated_tokens", r.tokens.size()},
            {"stopped", r.stopped}, {"text", tok->Decode(r.tokens, true)},
            {"prefill_tok_s", prefill_tps}, {"decode_tok_s", decode_tps}},
           StrCat("[", ids.size(), " prompt tokens, ", r.tokens.size(), " generated; prefill ",
                  static_cast<int>(prefill_tps), " tok/s, decode ",
                  static_cast<int>(decode_tps), " tok/s]"));
  return OkStatus();
}

Status RunChat(Context& ctx, const GenOpts& o) {
  LOOM_ASSIGN_OR_RETURN(auto model, LoadModel(o.model, o.weights));
  LOOM_ASSIGN_OR_RETURN(auto tok, phi::LoadTokenizer(o.model));
  const phi::ChatFormat format = FormatFor(*tok);
  std::vector<phi::ChatMessage> history;
  if (!o.system.empty()) history.push_back({"system", o.system});
  phi::GenerateOptions g = ToGenerate(ctx, o, *tok);
  g.stop_ids = StopIds(*model, *tok, format);
  std::string line;
  std::cout << "> " << std::flush;
  while (std::getline(std::cin, line)) {
    history.push_back({"user", line});
    LOOM_ASSIGN_OR_RETURN(std::string prompt, phi::RenderChat(format, history, true));
    Streamer stream{*tok, {}, 0};
    LOOM_ASSIGN_OR_RETURN(auto r, phi::Generate(*model, tok->Encode(prompt), g, stream));
    history.push_back({"assistant", tok->Decode(r.tokens, true)});
    std::cout << "\n> " << std::flush;
  }
  return OkStatus();
}

// A GGUF file: its config as loom reads it and its tensor table (dims innermost first).
Status InspectGguf(Context& ctx, const std::string& path) {
  LOOM_ASSIGN_OR_RETURN(auto file, phi::GgufFile::Open(path));
  LOOM_ASSIGN_OR_RETURN(phi::PhiConfig config, phi::PhiConfigFromGguf(*file));
  const Status valid = phi::PhiWeightsFromGguf(*file, config).status();
  std::vector<std::vector<std::string>> rows;
  Json tensors = Json::array();
  uint64_t bytes = 0;
  for (const auto& t : file->tensors()) {
    std::string dims;
    for (int64_t d : t.dims) dims += StrCat(dims.empty() ? "" : ", ", d);
    rows.push_back({t.name, std::string(phi::GgmlTypeName(t.type)), "[" + dims + "]"});
    tensors.push_back({{"name", t.name}, {"type", phi::GgmlTypeName(t.type)}, {"dims", t.dims}});
    bytes += t.bytes;
  }
  const std::string human =
      StrCat(config.Describe(), "\n", FormatTable({"tensor", "type", "dims (innermost first)"}, rows),
             file->tensors().size(), " tensors, ", FormatBytes(bytes), ", GGUF v", file->version(),
             "; ", valid.ok() ? "all expected tensors present with the right shapes"
                              : "INVALID: " + valid.ToString());
  ctx.Emit({{"config", config.Describe()}, {"tensors", tensors}, {"bytes", bytes},
            {"valid", valid.ok()}},
           human);
  return valid;
}

Status RunInspect(Context& ctx, const std::string& dir) {
  if (phi::IsGgufFile(dir)) return InspectGguf(ctx, dir);
  LOOM_ASSIGN_OR_RETURN(phi::PhiConfig config, phi::ReadPhiConfig(dir));
  LOOM_ASSIGN_OR_RETURN(auto ckpt, phi::Checkpoint::Open(dir));
  const Status valid = phi::ValidateCheckpoint(*ckpt, config);
  std::vector<std::vector<std::string>> rows;
  Json tensors = Json::array();
  int64_t params = 0, bytes = 0;
  for (const auto& [name, t] : ckpt->tensors()) {
    std::string shape;
    for (int64_t d : t.shape) shape += StrCat(shape.empty() ? "" : " x ", d);
    rows.push_back({name, std::string(phi::DTypeName(t.dtype)), shape,
                    std::filesystem::path(t.file).filename().string()});
    tensors.push_back({{"name", name}, {"dtype", phi::DTypeName(t.dtype)}, {"shape", t.shape},
                       {"file", t.file}});
    params += t.numel();
    bytes += static_cast<int64_t>(t.bytes.size());
  }
  const std::string human =
      StrCat(config.Describe(), "\n", FormatTable({"tensor", "dtype", "shape", "file"}, rows),
             params, " parameters, ", FormatBytes(static_cast<uint64_t>(bytes)), " in ",
             ckpt->files().size(), " file(s); ",
             valid.ok() ? "all expected tensors present with the right shapes"
                        : "INVALID: " + valid.ToString());
  ctx.Emit({{"config", config.Describe()}, {"tensors", tensors}, {"parameters", params},
            {"bytes", bytes}, {"valid", valid.ok()}},
           human);
  return valid;
}

// Single-pass streaming read bandwidth over a buffer larger than the caches (this machine's
// L3 is 300 MiB: 1 GiB).
double MeasureReadBandwidth(int threads) {
  const size_t words = (1ull << 30) / sizeof(uint64_t);
  static AlignedBuffer<uint64_t>* buf = [&] {
    auto* b = new AlignedBuffer<uint64_t>(words);
    for (size_t i = 0; i < words; ++i) (*b)[i] = i * 0x9E3779B97F4A7C15ull;
    // On the page size the weights get (PhiModel asks for 2 MiB pages), so the roofline is
    // this machine's best and not a 4 KiB-page TLB bound.
    AdviseHugePages(b->data(), words * sizeof(uint64_t));
    return b;
  }();
  ThreadPool pool(threads);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    Stopwatch sw;
    pool.ParallelFor(static_cast<int64_t>(words), 1 << 20, [&](int64_t b, int64_t e) {
      // XOR of 64-bit words (associative: the compiler vectorises it; a float sum would
      // measure the adder). Each chunk is read as 8 interleaved streams with a software
      // prefetch 4 KiB ahead, the access pattern of the decode kernels (several weight rows
      // at once): one sequential stream per core is bound by the misses a core keeps in
      // flight, and an earlier single-stream probe read 30-50 % below what decode reached.
      constexpr int kStreams = 8;
      const uint64_t* p = buf->data() + b;
      const int64_t per = (e - b) / kStreams / 8 * 8;
      uint64_t acc[kStreams] = {};
      for (int64_t i = 0; i < per; i += 8)
        for (int s = 0; s < kStreams; ++s) {
          const uint64_t* q = p + s * per + i;
          __builtin_prefetch(q + 512);
          for (int k = 0; k < 8; ++k) acc[s] ^= q[k];
        }
      for (int64_t i = kStreams * per; i < e - b; ++i) acc[0] ^= p[i];
      uint64_t all = 0;
      for (uint64_t a : acc) all ^= a;
      volatile uint64_t sink = all;
      (void)sink;
    });
    best = std::max(best, words * sizeof(uint64_t) / sw.ElapsedSeconds() / 1e9);
  }
  return best;
}

struct BenchOpts {
  std::string model;
  int64_t prompt_tokens = 64;
  int64_t gen_tokens = 16;
  int64_t reps = 3;
  bool verify = true;
  std::string weights;  // empty: as loaded (a GGUF's own types; f32 for safetensors)
};

bool AllF32(const phi::PhiWeights& w) {
  if (w.lm_head.type != phi::WeightType::kF32) return false;
  for (const auto& l : w.layers)
    for (const phi::Linear* x : {&l.qkv, &l.o, &l.up, &l.down})
      if (x->type != phi::WeightType::kF32) return false;
  return true;
}

std::string WeightsLabel(const phi::PhiWeights& w) {
  return std::string(phi::WeightTypeName(w.layers.empty() ? w.lm_head.type : w.layers[0].qkv.type));
}

Status RunBench(Context& ctx, const BenchOpts& o) {
  LOOM_ASSIGN_OR_RETURN(auto model, PhiModel::Load(o.model));
  const bool as_loaded = o.weights.empty();
  LOOM_ASSIGN_OR_RETURN(phi::WeightType wtype,
                        phi::ParseWeightType(as_loaded ? "f32" : o.weights));
  const phi::PhiConfig& c = model->config();
  Prng rng(ctx.globals.seed);
  std::vector<int32_t> prompt(static_cast<size_t>(o.prompt_tokens));
  for (auto& id : prompt) id = static_cast<int32_t>(rng.Uniform(static_cast<uint64_t>(c.vocab_size)));
  // The oracle runs on fp32 weights: packed (GGUF) weights are timed unverified.
  const bool verify = o.verify && AllF32(model->weights());
  if (verify) {
    // Check the fast path against the oracle on a short prefix (8 tokens: the batched GEMM
    // path, not only the decode tiles) before timing anything.
    std::vector<int32_t> head(prompt.begin(), prompt.begin() + std::min<int64_t>(8, o.prompt_tokens));
    phi::KvCache cache = model->NewCache();
    std::vector<float> fast;
    LOOM_RETURN_IF_ERROR(model->Forward(head, cache, fast, true));
    std::vector<float> ref = phi::ReferenceForward(c, model->weights(), head);
    double max_d = 0, max_r = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      max_d = std::max(max_d, std::fabs(double(fast[i]) - ref[i]));
      max_r = std::max(max_r, std::fabs(double(ref[i])));
    }
    if (max_d > 1e-4 * max_r)
      return InternalError(StrCat("bench: fast logits differ from the reference by ", max_d));
  }
  // Quantize after the fp32 check (the oracle needs the fp32 weights).
  if (!as_loaded) LOOM_RETURN_IF_ERROR(model->Quantize(wtype));
  // As llama-bench: one untimed warm-up run (first-touch page faults, per-thread buffers,
  // pool start-up), then the mean over reps of a prefill into an empty cache followed by the
  // decode steps.
  double prefill_s = 0, decode_s = 0;
  phi::KvCache cache = model->NewCache();
  std::vector<float> logits;
  for (int64_t rep = -1; rep < o.reps; ++rep) {
    cache.Clear();
    Stopwatch sw;
    LOOM_RETURN_IF_ERROR(model->Forward(prompt, cache, logits));
    const double p = sw.ElapsedSeconds();
    Stopwatch dw;
    int32_t next = 0;
    for (int64_t i = 0; i < o.gen_tokens; ++i) {
      next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      LOOM_RETURN_IF_ERROR(model->Forward({&next, 1}, cache, logits));
    }
    if (rep >= 0) {
      prefill_s += p / o.reps;
      decode_s += dw.ElapsedSeconds() / o.reps;
    }
  }
  // Bytes one decode step streams: every weight except the embedding table (one row), plus
  // the KV cache (fp32) at the mean context length.
  const double weight_bytes = phi::StreamedWeightBytes(model->weights());
  const double mean_ctx = o.prompt_tokens + o.gen_tokens / 2.0;
  const double kv_bytes = 4.0 * 2 * c.layers * c.kv_heads * c.head_dim * mean_ctx;
  const int threads = DefaultThreadPool().num_threads();
  const double bw = MeasureReadBandwidth(threads);
  const double prefill_tps = o.prompt_tokens / prefill_s;
  const double decode_tps = o.gen_tokens / decode_s;
  const double roofline_tps = bw * 1e9 / (weight_bytes + kv_bytes);
  ctx.Emit({{"model", o.model}, {"weights", WeightsLabel(model->weights())}, {"threads", threads}, {"prompt_tokens", o.prompt_tokens},
            {"gen_tokens", o.gen_tokens}, {"reps", o.reps}, {"prefill_tok_s", prefill_tps},
            {"decode_tok_s", decode_tps}, {"read_bandwidth_gb_s", bw},
            {"decode_bytes_per_token", weight_bytes + kv_bytes},
            {"decode_roofline_tok_s", roofline_tps},
            {"decode_pct_of_roofline", 100.0 * decode_tps / roofline_tps},
            {"verified", verify}, {"blas_core", tensor::BlasCoreName()}});
  return OkStatus();
}

template <typename Opts>
Status RunQuantize(Context& ctx, const Opts& o) {
  LOOM_ASSIGN_OR_RETURN(phi::WeightType type, phi::ParseWeightType(o.type));
  Stopwatch sw;
  LOOM_ASSIGN_OR_RETURN(auto model, PhiModel::Load(o.model));
  LOOM_RETURN_IF_ERROR(model->Quantize(type));
  std::unique_ptr<phi::GgufFile> vocab;
  if (!o.vocab.empty()) {
    LOOM_ASSIGN_OR_RETURN(vocab, phi::GgufFile::Open(o.vocab));
  } else {
    LOOM_LOG(kWarning) << "phi quantize: no --vocab: the file has no tokenizer, so llama.cpp "
                          "will not load it (loom will)";
  }
  phi::PhiGgufOptions opts;
  opts.name = o.name;
  opts.vocab = vocab.get();
  LOOM_RETURN_IF_ERROR(phi::WritePhiGguf(o.out, model->config(), model->weights(), opts));
  const auto bytes = std::filesystem::file_size(o.out);
  ctx.Emit({{"out", o.out}, {"type", o.type}, {"bytes", bytes}, {"seconds", sw.ElapsedSeconds()},
            {"config", model->config().Describe()}},
           StrCat("wrote ", o.out, " (", o.type, ", ", FormatBytes(bytes), ") in ",
                  static_cast<int64_t>(sw.ElapsedSeconds() * 10) / 10.0, " s"));
  return OkStatus();
}

struct TokenizeOpts {
  std::string model, text, file;
  bool pieces = false;
};

// Ids of a text under the model's tokenizer (tokenizer files, or a GGUF's own vocabulary), one
// line of space-separated ids, like llama.cpp's tokenizer tests; --pieces adds each token's text.
Status RunTokenize(Context& ctx, const TokenizeOpts& o) {
  if (o.text.empty() == o.file.empty())
    return InvalidArgumentError("phi tokenize: give exactly one of --text and --file");
  std::string text = o.text;
  if (!o.file.empty()) {
    LOOM_ASSIGN_OR_RETURN(text, ReadFileToString(o.file));
  }
  LOOM_ASSIGN_OR_RETURN(auto tok, phi::LoadTokenizer(o.model));
  const std::vector<int32_t> ids = tok->Encode(text);
  std::string line;
  Json pieces = Json::array();
  for (int32_t id : ids) {
    line += StrCat(line.empty() ? "" : " ", id);
    if (o.pieces) {
      const std::string piece = tok->Decode(std::span<const int32_t>(&id, 1));
      pieces.push_back(piece);
      line += StrCat(":", Json(piece).dump());
    }
  }
  Json rec = {{"ids", ids}, {"count", ids.size()}, {"decoded", tok->Decode(ids)}};
  if (o.pieces) rec["pieces"] = pieces;
  ctx.Emit(rec, line);
  return OkStatus();
}

struct LogitsOpts {
  std::string model, tokens, out, weights;
  bool decode = false;
};

// Logits of every position for given token ids, as raw little-endian fp32 [T x vocab]: the
// loom side of bench/phi_logits_vs_llamacpp.sh (token ids, so no tokenizer is involved).
Status RunLogits(Context& ctx, const LogitsOpts& o) {
  LOOM_ASSIGN_OR_RETURN(auto model, PhiModel::Load(o.model));
  if (!o.weights.empty()) {
    LOOM_ASSIGN_OR_RETURN(phi::WeightType t, phi::ParseWeightType(o.weights));
    LOOM_RETURN_IF_ERROR(model->Quantize(t));
  }
  const int64_t vocab = model->config().vocab_size;
  std::vector<int32_t> ids;
  for (const std::string& s : StrSplit(o.tokens, ',', true)) {
    LOOM_ASSIGN_OR_RETURN(int64_t id, ParseInt(s, "--tokens"));
    if (id < 0 || id >= vocab)
      return InvalidArgumentError(
          StrCat("--tokens: id ", id, " outside the vocabulary [0, ", vocab, ")"));
    ids.push_back(static_cast<int32_t>(id));
  }
  if (ids.empty()) return InvalidArgumentError("--tokens: no token ids");
  phi::KvCache cache = model->NewCache();
  std::vector<float> all, step;
  if (o.decode) {  // one token at a time through the KV cache (the decode kernels)
    for (int32_t& id : ids) {
      LOOM_RETURN_IF_ERROR(model->Forward({&id, 1}, cache, step));
      all.insert(all.end(), step.begin(), step.end());
    }
  } else {  // one batch (the prefill GEMMs)
    LOOM_RETURN_IF_ERROR(model->Forward(ids, cache, all, true));
  }
  LOOM_RETURN_IF_ERROR(WriteFileAtomically(
      o.out,
      std::string_view(reinterpret_cast<const char*>(all.data()), all.size() * sizeof(float))));
  std::vector<int64_t> argmax;
  for (size_t j = 0; j < ids.size(); ++j) {
    const float* row = all.data() + j * vocab;
    argmax.push_back(std::max_element(row, row + vocab) - row);
  }
  ctx.Emit({{"out", o.out}, {"tokens", ids.size()}, {"vocab", vocab}, {"argmax", argmax}},
           StrCat("wrote ", ids.size(), " x ", vocab, " logits to ", o.out));
  return OkStatus();
}

void Register(CLI::App& app, Context& ctx) {
  app.require_subcommand(1);
  auto gen = std::make_shared<GenOpts>();
  CLI::App* g = app.add_subcommand("generate", "Generate text from a prompt");
  AddGenFlags(g, *gen);
  g->add_option("--prompt", gen->prompt, "Prompt text")->required();
  g->add_flag("--chat", gen->chat, "Wrap the prompt in the model's chat template");
  ctx.SetVerb(g, [&ctx, gen] { return RunGenerate(ctx, *gen); });

  auto chat = std::make_shared<GenOpts>();
  CLI::App* ch = app.add_subcommand("chat", "Chat on stdin/stdout with the chat template");
  AddGenFlags(ch, *chat);
  ctx.SetVerb(ch, [&ctx, chat] { return RunChat(ctx, *chat); });

  auto dir = std::make_shared<std::string>();
  CLI::App* in = app.add_subcommand("inspect", "Config and tensor table of a checkpoint");
  in->add_option("--model", *dir, "HF model directory or GGUF file")->required();
  ctx.SetVerb(in, [&ctx, dir] { return RunInspect(ctx, *dir); });

  auto bench = std::make_shared<BenchOpts>();
  CLI::App* b = app.add_subcommand("bench", "Prefill and decode tokens/s and % of roofline");
  b->add_option("--model", bench->model, "HF model directory or GGUF file")->required();
  b->add_option("--prompt-tokens", bench->prompt_tokens, "Prefill length");
  b->add_option("--gen-tokens", bench->gen_tokens, "Decode steps");
  b->add_option("--reps", bench->reps, "Timed repetitions after one warm-up (mean reported)")
      ->check(CLI::PositiveNumber);
  b->add_flag("!--no-verify", bench->verify, "Skip the oracle check");
  b->add_option("--weights", bench->weights,
                "f32 | f16 | q8_0 | q4_0, converted at load (default: as stored)");
  ctx.SetVerb(b, [&ctx, bench] { return RunBench(ctx, *bench); });

  auto lg = std::make_shared<LogitsOpts>();
  CLI::App* l = app.add_subcommand("logits", "Write the logits of every position (fp32 LE)");
  l->add_option("--model", lg->model, "HF model directory or GGUF file")->required();
  l->add_option("--tokens", lg->tokens, "Comma-separated token ids")->required();
  l->add_option("--out", lg->out, "Output file: [tokens x vocab] little-endian fp32")->required();
  l->add_option("--weights", lg->weights, "f32 | f16 | q8_0 | q4_0 (default: as stored)");
  l->add_flag("--decode", lg->decode, "One token at a time through the KV cache");
  ctx.SetVerb(l, [&ctx, lg] { return RunLogits(ctx, *lg); });

  struct QuantizeOpts {
    std::string model, out, type = "q8_0", vocab, name;
  };
  auto q = std::make_shared<QuantizeOpts>();
  CLI::App* qz = app.add_subcommand(
      "quantize", "Write a GGUF file (llama.cpp's phi2/phi3 layout) in F32/F16/Q8_0/Q4_0");
  qz->add_option("--model", q->model, "HF model directory or GGUF file")->required();
  qz->add_option("--type", q->type, "f32 | f16 | q8_0 | q4_0 (every matrix; norms stay f32)");
  qz->add_option("--out", q->out, "Output .gguf file")->required();
  qz->add_option("--vocab", q->vocab,
                 "GGUF whose tokenizer.* keys to copy (llama.cpp needs them; loom does not)");
  qz->add_option("--name", q->name, "general.name (default: the architecture)");
  ctx.SetVerb(qz, [&ctx, q] { return RunQuantize(ctx, *q); });

  auto tk = std::make_shared<TokenizeOpts>();
  CLI::App* t = app.add_subcommand("tokenize",
                                   "Token ids of a text (tokenizer files or a GGUF's vocabulary)");
  t->add_option("--model", tk->model, "HF model directory or GGUF file")->required();
  t->add_option("--text", tk->text, "Text to tokenize");
  t->add_option("--file", tk->file, "File whose bytes to tokenize");
  t->add_flag("--pieces", tk->pieces, "Print each id with its text");
  ctx.SetVerb(t, [&ctx, tk] { return RunTokenize(ctx, *tk); });

  struct RandomOpts {
    std::string preset = "phi-2", out, dtype = "F32";
    int64_t layers = 2;
  };
  auto rnd = std::make_shared<RandomOpts>();
  CLI::App* r = app.add_subcommand("make-random", "Write a random checkpoint of a real shape");
  r->add_option("--preset", rnd->preset, "phi-1.5 | phi-2 | phi-3-mini | phi-4 | phi-4-mini");
  r->add_option("--layers", rnd->layers, "Number of layers (shapes are the real ones)");
  r->add_option("--dtype", rnd->dtype, "F32 | F16 | BF16");
  r->add_option("--out", rnd->out, "Output directory")->required();
  ctx.SetVerb(r, [&ctx, rnd] {
    LOOM_ASSIGN_OR_RETURN(Json config, phi::PresetConfig(rnd->preset, rnd->layers));
    LOOM_ASSIGN_OR_RETURN(phi::DType dtype, phi::ParseDType(rnd->dtype));
    LOOM_RETURN_IF_ERROR(phi::WriteRandomCheckpoint(config, rnd->out, dtype, ctx.globals.seed));
    ctx.Emit({{"out", rnd->out}, {"preset", rnd->preset}, {"layers", rnd->layers}});
    return OkStatus();
  });
}

// Demo: the bundled tiny phi-1.5-shaped checkpoint (transformers-generated, under the phi
// testdata) generates greedily; each token is checked against the reference oracle.
StatusOr<DemoResult> PhiDemo(Context& ctx) {
  std::string dir = LOOM_PHI_DEMO_MODEL;
  if (dir.empty() || !std::filesystem::exists(dir + "/config.json"))
    return NotFoundError(StrCat("phi demo: bundled checkpoint not found at '", dir, "'"));
  LOOM_ASSIGN_OR_RETURN(auto model, PhiModel::Load(dir));
  std::vector<int32_t> prompt = {10, 20, 30, 40, 50, 60};
  phi::GenerateOptions g;
  g.max_new_tokens = 12;
  LOOM_ASSIGN_OR_RETURN(auto r, phi::Generate(*model, prompt, g));
  std::vector<int32_t> seq = prompt;
  const size_t vocab = static_cast<size_t>(model->config().vocab_size);
  for (int32_t got : r.tokens) {
    auto logits = phi::ReferenceForward(model->config(), model->weights(), seq);
    const float* last = logits.data() + (seq.size() - 1) * vocab;
    const int32_t want = static_cast<int32_t>(std::max_element(last, last + vocab) - last);
    if (got != want)
      return InternalError(StrCat("phi demo: token ", seq.size(), " is ", got,
                                  ", the reference says ", want));
    seq.push_back(got);
  }
  std::string ids;
  for (int32_t t : r.tokens) ids += StrCat(ids.empty() ? "" : " ", t);
  const std::string line = StrCat("tiny phi-1.5-shaped model (", model->config().Describe(),
                                  ")\n  generated ", r.tokens.size(), " tokens: ", ids);
  if (!ctx.globals.json) std::cout << "  " << line << "\n";
  DemoResult result;
  result.headline = StrCat("generated ", r.tokens.size(), " tokens greedily, equal to the oracle");
  result.verified = true;
  result.metrics = {{"tokens", r.tokens}};
  return result;
}

}  // namespace

LOOM_REGISTER_COMMANDS(phi, "phi models from Hugging Face checkpoints", Register);
LOOM_REGISTER_DEMO_STAGE(phi, 70, PhiDemo);

}  // namespace loom::cli
