// `loom w2v train | eval | similar | analogy | classes` and the w2v stage of `loom demo`.
// `train` takes word2vec.c's single-dash flags (-train -output -size ...); CLI11 cannot parse
// multi-letter single-dash options, so the verb collects its arguments raw (prefix_command)
// and parses them here, accepting -flag and --flag alike.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "cli.h"
#include "loom/base/file_io.h"
#include "loom/base/logging.h"
#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/comm/thread/thread_transport.h"
#ifdef LOOM_HAVE_MPI
#include "loom/comm/mpi/mpi_transport.h"
#endif
#include "loom/w2v/corpus.h"
#include "loom/w2v/dist/dist_checkpoint.h"
#include "loom/w2v/dist/distributed_trainer.h"
#include "loom/w2v/eval.h"
#include "loom/w2v/train_pipeline.h"
#include "loom/w2v/vectors_io.h"
#include "loom/w2v/word_classes.h"

namespace loom::cli {
namespace {

using w2v::PipelineOptions;

struct DistArgs {
  int ranks = 0;     // --ranks P: P thread ranks; 0: the single-process trainer
  bool mpi = false;  // --distributed: MPI ranks (under mpirun)
  int64_t comm_timeout_s = 1800;
  int64_t checkpoint_rounds = 0;  // --checkpoint-rounds K: checkpoint every K rounds (0: each epoch)
  w2v::dist::DistributedOptions options;
  bool rounds_set = false;  // --rounds-per-epoch given; otherwise RoundsPerEpochFor(corpus, P)
};

Status ParseTrainArgs(const std::vector<std::string>& args, GlobalOptions& g, PipelineOptions* p,
                      DistArgs* dist) {
  w2v::TrainOptions& o = p->train;
  o.threads = g.threads > 0 ? g.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  o.seed = g.seed;
  bool alpha_set = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    if (flag.rfind("--", 0) == 0) flag = flag.substr(1);
    if (flag.empty() || flag[0] != '-') return InvalidArgumentError(StrCat("train: unexpected argument '", args[i], "'"));
    flag = flag.substr(1);
    if (flag == "resume") {
      p->resume = true;
      continue;
    }
    if (flag == "distributed") {
      dist->mpi = true;
      continue;
    }
    if (flag == "json") {  // global flags given after the verb reach this parser
      g.json = true;
      continue;
    }
    if (i + 1 >= args.size()) return InvalidArgumentError(StrCat("train: flag -", flag, " needs a value"));
    const std::string& v = args[++i];
    auto num = [&](int64_t* out) -> Status {
      LOOM_ASSIGN_OR_RETURN(*out, ParseInt(v, "-" + flag));
      return OkStatus();
    };
    auto real = [&](float* out) -> Status {
      LOOM_ASSIGN_OR_RETURN(double d, ParseDouble(v, "-" + flag));
      *out = static_cast<float>(d);
      return OkStatus();
    };
    int64_t n = 0;
    if (flag == "train") p->train_file = v;
    else if (flag == "output") p->output = v;
    else if (flag == "save-vocab") p->save_vocab = v;
    else if (flag == "read-vocab") p->read_vocab = v;
    else if (flag == "checkpoint") p->checkpoint = v;
    else if (flag == "size") { LOOM_RETURN_IF_ERROR(num(&o.dim)); }
    else if (flag == "window") { LOOM_RETURN_IF_ERROR(num(&n)); o.window = static_cast<int>(n); }
    else if (flag == "sample") { LOOM_RETURN_IF_ERROR(real(&o.sample)); }
    else if (flag == "hs") { LOOM_RETURN_IF_ERROR(num(&n)); o.hs = n != 0; }
    else if (flag == "negative") { LOOM_RETURN_IF_ERROR(num(&n)); o.negative = static_cast<int>(n); }
    else if (flag == "threads") { LOOM_RETURN_IF_ERROR(num(&n)); o.threads = static_cast<int>(n); }
    else if (flag == "iter") { LOOM_RETURN_IF_ERROR(num(&n)); o.iter = static_cast<int>(n); p->iter_set = true; }
    else if (flag == "min-count") { LOOM_RETURN_IF_ERROR(num(&o.min_count)); }
    else if (flag == "alpha") { LOOM_RETURN_IF_ERROR(real(&o.alpha)); alpha_set = true; }
    else if (flag == "binary") { LOOM_RETURN_IF_ERROR(num(&n)); p->binary = n != 0; }
    else if (flag == "cbow") { LOOM_RETURN_IF_ERROR(num(&n)); o.cbow = n != 0; }
    else if (flag == "debug") { LOOM_RETURN_IF_ERROR(num(&n)); }
    else if (flag == "batch-size") { LOOM_RETURN_IF_ERROR(num(&n)); o.batch_size = static_cast<int>(n); }
    else if (flag == "seed") { LOOM_RETURN_IF_ERROR(num(&n)); o.seed = static_cast<uint64_t>(n); }
    else if (flag == "ranks") { LOOM_RETURN_IF_ERROR(num(&n)); dist->ranks = static_cast<int>(n); }
    else if (flag == "backend") {
      if (v == "mpi") dist->mpi = true;
      else if (v != "thread") return InvalidArgumentError(StrCat("train: --backend ", v, ": expected thread or mpi"));
    }
    else if (flag == "comm-timeout") { LOOM_RETURN_IF_ERROR(num(&dist->comm_timeout_s)); }
    else if (flag == "checkpoint-rounds") { LOOM_RETURN_IF_ERROR(num(&dist->checkpoint_rounds));
    } else if (flag == "rounds-per-epoch") {
      LOOM_RETURN_IF_ERROR(num(&n));
      dist->options.rounds_per_epoch = static_cast<int>(n);
      dist->rounds_set = true;
    } else if (flag == "combiner") {
      LOOM_ASSIGN_OR_RETURN(dist->options.combiner, w2v::ParseCombiner(v));
    } else if (flag == "log-level") {
      LOOM_ASSIGN_OR_RETURN(LogLevel level, ParseLogLevel(v));
      SetLogLevel(level);
    } else if (flag == "mode") {
      if (v == "exact") o.mode = w2v::Mode::kExact;
      else if (v == "batched") o.mode = w2v::Mode::kBatched;
      else return InvalidArgumentError(StrCat("train: --mode ", v, ": expected exact or batched"));
    } else if (flag == "classes") {
      LOOM_RETURN_IF_ERROR(num(&p->classes));
    } else {
      return InvalidArgumentError(StrCat("train: unknown flag -", flag));
    }
  }
  if (!alpha_set) o.alpha = -1;  // 0.05 CBOW / 0.025 skip-gram
  return OkStatus();
}

// What every rank of a distributed run prepares from the text: the vocabulary (learned or
// read) and the encoded corpus (mmapped; the token file is unlinked at once).
struct PreparedCorpus {
  w2v::Vocabulary vocab;
  std::unique_ptr<w2v::TokenFile> tokens;
  int64_t token_count = 0;
};

// A resumed run encodes with the vocabulary stored in the checkpoint (rank `rank`'s file).
StatusOr<std::unique_ptr<PreparedCorpus>> PrepareCorpus(const PipelineOptions& p, const std::string& token_path,
                                                        bool save_vocab, int rank, int ranks) {
  auto c = std::make_unique<PreparedCorpus>();
  if (p.resume) {
    LOOM_ASSIGN_OR_RETURN(auto ckpt, w2v::dist::LoadDistributedCheckpoint(p.checkpoint, rank, ranks));
    c->vocab = std::move(ckpt.rank.vocab);
  } else if (!p.read_vocab.empty()) {
    LOOM_ASSIGN_OR_RETURN(c->vocab, w2v::ReadVocab(p.read_vocab, p.train.min_count));
  } else {
    LOOM_ASSIGN_OR_RETURN(c->vocab, w2v::LearnVocab(p.train_file, {.min_count = p.train.min_count}));
  }
  if (save_vocab && !p.save_vocab.empty()) LOOM_RETURN_IF_ERROR(w2v::SaveVocab(c->vocab, p.save_vocab));
  LOOM_ASSIGN_OR_RETURN(c->token_count, w2v::EncodeCorpus(p.train_file, c->vocab, token_path));
  auto tf = w2v::TokenFile::Open(token_path);
  std::remove(token_path.c_str());
  if (!tf.ok()) return tf.status();
  c->tokens = std::move(*tf);
  return c;
}

// One rank's whole distributed run over `comm`; rank 0 writes -output and reports.
Status RunRank(Context& ctx, comm::Communicator& comm, const PipelineOptions& p, const DistArgs& d,
               const PreparedCorpus& corpus, const char* backend, w2v::Model* model) {
  Stopwatch sw;
  w2v::TrainOptions opts = p.train;
  w2v::dist::DistributedOptions dopt = d.options;
  std::optional<w2v::dist::DistributedProgress> start;
  if (p.resume) {
    // Options, combiner and round length come from the checkpoint; an explicit -iter may extend
    // the run (without one it ends where the uninterrupted run would, not at the default 5).
    LOOM_ASSIGN_OR_RETURN(auto c, w2v::dist::LoadDistributedCheckpoint(p.checkpoint, comm.rank(), comm.size()));
    opts = c.rank.options;
    if (p.iter_set) opts.iter = std::max(p.train.iter, opts.iter);
    *model = std::move(c.rank.model);
    dopt.combiner = c.dist.combiner;
    dopt.rounds_per_epoch = c.dist.rounds_per_epoch;
    start = w2v::dist::DistributedProgress{c.rounds_done, std::move(c.rank.state)};
    if (comm.rank() == 0) LOOM_LOG(kInfo) << "resuming " << p.checkpoint << " after round " << c.rounds_done;
  } else {
    *model = w2v::InitModel(corpus.vocab.size(), opts.dim, opts.hs, opts.negative > 0, opts.seed);
    if (!d.rounds_set)
      dopt.rounds_per_epoch =
          w2v::dist::RoundsPerEpochFor(static_cast<int64_t>(corpus.token_count), comm.size());
  }
  LOOM_ASSIGN_OR_RETURN(auto tctx, w2v::TrainContext::Create(corpus.vocab, opts));
  const int64_t every = d.checkpoint_rounds > 0 ? d.checkpoint_rounds : dopt.rounds_per_epoch;
  const int64_t last = int64_t{opts.iter} * dopt.rounds_per_epoch;
  int64_t previous = start ? start->rounds_done : -1;
  w2v::dist::RoundCallback after;
  if (!p.checkpoint.empty()) {
    after = [&](const w2v::dist::DistributedProgress& pr) -> Status {
      if (pr.rounds_done % every != 0 && pr.rounds_done != last) return OkStatus();
      LOOM_RETURN_IF_ERROR(w2v::dist::SaveDistributedCheckpoint(comm, p.checkpoint, opts, corpus.vocab, *model,
                                                                dopt, pr, previous));
      previous = pr.rounds_done;
      return OkStatus();
    };
  }
  w2v::dist::DistributedStats stats;
  LOOM_RETURN_IF_ERROR(w2v::dist::DistributedTrain(comm, *tctx, corpus.tokens->tokens(), model, dopt, &stats,
                                                   start ? &*start : nullptr, after));
  if (comm.rank() != 0) return OkStatus();
  const double seconds = sw.ElapsedSeconds();
  LOOM_RETURN_IF_ERROR(w2v::WriteOutput(p, corpus.vocab.words(), model->syn0, opts.dim));
  ctx.Emit({{"vocab_size", corpus.vocab.size()}, {"train_words", corpus.vocab.train_words()},
            {"backend", backend}, {"ranks", comm.size()},
            {"combiner", std::string(w2v::CombinerName(dopt.combiner))},
            {"rounds_per_epoch", dopt.rounds_per_epoch},
            {"words_trained", corpus.token_count * (last - (start ? start->rounds_done : 0)) / dopt.rounds_per_epoch}, {"train_seconds", seconds},
            {"rows_sent_rank0", stats.rows_sent}, {"rows_total_rank0", stats.rows_total},
            {"scan_seconds_rank0", stats.scan_seconds}, {"output", p.output}});
  return OkStatus();
}

// --ranks P: P thread ranks (comm's thread backend) in this process; --distributed: one rank
// per MPI process (run under mpirun). Each rank uses -threads local threads.
Status TrainDistributed(Context& ctx, const PipelineOptions& p, const DistArgs& d) {
  if (p.train_file.empty() || p.output.empty()) return InvalidArgumentError("train: --ranks/--distributed need -train and -output");
  if (p.resume && p.checkpoint.empty()) return InvalidArgumentError("train: --resume needs --checkpoint PATH");
  if (d.checkpoint_rounds < 0) return InvalidArgumentError("train: --checkpoint-rounds must be >= 0");
  if (p.classes < 0) return InvalidArgumentError("train: -classes must be >= 0");
  LOOM_RETURN_IF_ERROR(p.train.Validate());
  if (d.mpi) {
#ifdef LOOM_HAVE_MPI
    LOOM_RETURN_IF_ERROR(comm::mpi::InitMpi());
    Status st = [&]() -> Status {
      LOOM_ASSIGN_OR_RETURN(auto transport, comm::mpi::WorldTransport());
      comm::Communicator comm(std::move(transport));
      // A dead or failed peer surfaces as Unavailable after this long, not as a hang.
      comm.set_timeout_ms(d.comm_timeout_s * 1000);
      // Every rank encodes the corpus itself (same file, same vocabulary).
      LOOM_ASSIGN_OR_RETURN(auto corpus, PrepareCorpus(p, StrCat(p.output, ".tokens.rank", comm.rank(), ".tmp"),
                                                       comm.rank() == 0, comm.rank(), comm.size()));
      w2v::Model model;
      return RunRank(ctx, comm, p, d, *corpus, "mpi", &model);
    }();
    comm::mpi::FinalizeMpi();
    return st;
#else
    return FailedPreconditionError("train --distributed: this loom was built without MPI");
#endif
  }
  LOOM_ASSIGN_OR_RETURN(auto corpus, PrepareCorpus(p, p.output + ".tokens.tmp", true, 0, d.ranks));
  std::vector<w2v::Model> models(static_cast<size_t>(d.ranks));
  return comm::thread::RunRanks(d.ranks, [&](comm::Communicator& comm) -> Status {
    return RunRank(ctx, comm, p, d, *corpus, "thread", &models[static_cast<size_t>(comm.rank())]);
  });
}

Status Train(Context& ctx, const std::vector<std::string>& args) {
  PipelineOptions p;
  DistArgs dist;
  LOOM_RETURN_IF_ERROR(ParseTrainArgs(args, ctx.globals, &p, &dist));
  if (dist.ranks < 0 || dist.ranks > 256) return InvalidArgumentError("train: --ranks not in [1, 256]");
  if (dist.mpi && dist.ranks > 0) return InvalidArgumentError("train: --distributed takes its ranks from mpirun, not --ranks");
  if (dist.comm_timeout_s < 1) return InvalidArgumentError("train: --comm-timeout must be >= 1 second");
  if (dist.ranks > 0 || dist.mpi) return TrainDistributed(ctx, p, dist);
  LOOM_ASSIGN_OR_RETURN(w2v::PipelineResult r, w2v::RunTraining(p));
  Json rec = {{"vocab_size", r.vocab_size}, {"train_words", r.train_words},
              {"words_trained", r.tokens}, {"train_seconds", r.train_seconds},
              {"total_seconds", r.total_seconds}, {"words_per_second", r.words_per_second()},
              {"train_cpu_seconds", r.train_cpu_seconds}, {"output", p.output}};
  ctx.Emit(rec);
  return OkStatus();
}

struct EvalArgs {
  std::string vectors, questions, wordsim;
  int64_t threshold = 30000;
};

Status Eval(Context& ctx, const EvalArgs& a) {
  if (a.questions.empty() && a.wordsim.empty())
    return InvalidArgumentError("eval: give --questions FILE and/or --wordsim FILE");
  Json rec = {{"vectors", a.vectors}};
  if (!a.questions.empty()) {
    LOOM_ASSIGN_OR_RETURN(w2v::WordVectors v, w2v::ReadVectors(a.vectors, w2v::VectorFormat::kAuto, a.threshold));
    LOOM_ASSIGN_OR_RETURN(std::string q, ReadFileToString(a.questions));
    w2v::AnalogyReport r = w2v::EvaluateAnalogies(v, q);
    if (!ctx.globals.json) std::cout << r.text;
    rec["analogy"] = {{"seen", r.seen}, {"total", r.total}, {"correct", r.correct},
                      {"accuracy", r.accuracy()},
                      {"semantic", r.semantic_seen ? 100.0 * r.semantic_correct / r.semantic_seen : 0.0},
                      {"syntactic", r.syntactic_seen ? 100.0 * r.syntactic_correct / r.syntactic_seen : 0.0}};
  }
  if (!a.wordsim.empty()) {
    LOOM_ASSIGN_OR_RETURN(w2v::WordVectors v, w2v::ReadVectors(a.vectors));
    LOOM_ASSIGN_OR_RETURN(std::string t, ReadFileToString(a.wordsim));
    LOOM_ASSIGN_OR_RETURN(w2v::WordSimReport r, w2v::EvaluateWordSim(v, t, a.wordsim));
    if (!ctx.globals.json)
      std::printf("Word similarity: Spearman %.4f  Pearson %.4f  pairs %d  OOV %.2f %%\n", r.spearman,
                  r.pearson, r.pairs, r.oov_ratio);
    rec["wordsim"] = {{"spearman", r.spearman}, {"pearson", r.pearson}, {"pairs", r.pairs}, {"oov_ratio", r.oov_ratio}};
  }
  if (ctx.globals.json) ctx.Emit(rec);
  return OkStatus();
}

void PrintNeighbours(Context& ctx, const std::string& query, const w2v::Neighbours& n) {
  Json list = Json::array();
  std::string human;
  for (const auto& [w, s] : n) {
    list.push_back({{"word", w}, {"cosine", s}});
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%-24s %.4f\n", w.c_str(), static_cast<double>(s));
    human += buf;
  }
  ctx.Emit({{"query", query}, {"neighbours", list}}, human.empty() ? "(none)" : human.substr(0, human.size() - 1));
}

StatusOr<DemoResult> W2vDemo(Context& ctx) {
  // A real English text slice from a Debian package that install-deps provides (perl-doc's
  // pod files), normalised like scripts/make-corpus.sh: lower case, a-z only.
  std::vector<std::filesystem::path> pods;
  std::error_code ec;
  for (const char* root : {"/usr/share/perl", "/usr/share/doc/perl-doc"}) {
    if (!std::filesystem::exists(root, ec)) continue;
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (it->is_regular_file(ec) && it->path().extension() == ".pod") pods.push_back(it->path());
    }
  }
  std::sort(pods.begin(), pods.end());
  if (pods.size() < 20)
    return FailedPreconditionError("w2v demo: perl-doc's .pod files not found (run scripts/install-deps.sh)");
  std::string text;
  for (const auto& p : pods) {
    auto s = ReadFileToString(p.string());
    if (!s.ok()) continue;
    for (char c : *s) {
      if (c >= 'A' && c <= 'Z') text += static_cast<char>(c - 'A' + 'a');
      else if ((c >= 'a' && c <= 'z') || c == '\n') text += c;
      else if (text.empty() || text.back() != ' ') text += ' ';
    }
    if (text.size() > (12u << 20)) break;  // a modest slice: ~2M tokens
  }
  std::string dir = (std::filesystem::temp_directory_path() / "loom-w2v-demo-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) return InternalError("cannot create a temporary directory");
  LOOM_RETURN_IF_ERROR(WriteFileAtomically(dir + "/corpus.txt", text));
  PipelineOptions p;
  p.train_file = dir + "/corpus.txt";
  p.output = dir + "/vectors.bin";
  p.binary = true;
  p.train.dim = 64;
  p.train.cbow = false;
  p.train.iter = 2;
  p.train.sample = 1e-4f;
  p.train.min_count = 5;
  p.train.mode = w2v::Mode::kBatched;
  p.train.threads = ctx.globals.threads > 0 ? ctx.globals.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  p.train.seed = ctx.globals.seed;
  auto r = w2v::RunTraining(p);
  if (!r.ok()) {
    std::filesystem::remove_all(dir, ec);
    return r.status();
  }
  // Verify: the binary file reads back and re-serialises byte-identically (word2vec.c format).
  auto bytes = ReadFileToString(p.output);
  auto v = w2v::ReadVectors(p.output, w2v::VectorFormat::kBinary);
  std::filesystem::remove_all(dir, ec);
  if (!bytes.ok()) return bytes.status();
  if (!v.ok()) return v.status();
  bool round_trip = w2v::FormatVectors(v->words, v->data.data(), v->dim, true) == *bytes;
  if (!round_trip) return InternalError("vector file did not round-trip byte for byte");
  Json neighbours = Json::object();
  for (const char* q : {"array", "file", "string", "hash", "module"}) {
    auto n = w2v::Similar(*v, q, 5);
    if (!n.ok()) continue;
    std::string line;
    Json words = Json::array();
    for (const auto& [w, s] : *n) {
      line += StrCat(" ", w);
      words.push_back(w);
    }
    neighbours[q] = words;
    if (!ctx.globals.json) std::cout << "  " << q << ":" << line << "\n";
  }
  DemoResult d;
  char head[200];
  std::snprintf(head, sizeof(head), "%lld words x %d epochs of perl-doc, vocab %lld, %.0fK words/s; .bin round trip ok",
                static_cast<long long>(r->tokens / p.train.iter), p.train.iter,
                static_cast<long long>(r->vocab_size), r->words_per_second() / 1e3);
  d.headline = head;
  d.verified = true;
  d.metrics = {{"vocab_size", r->vocab_size}, {"words_per_second", r->words_per_second()}, {"neighbours", neighbours}};
  return d;
}

}  // namespace

LOOM_REGISTER_COMMANDS(
    w2v, "word2vec: train (word2vec.c flags), eval, similar, analogy",
    [](CLI::App& app, Context& ctx) {
      CLI::App* train = app.add_subcommand(
          "train",
          "Train word vectors (word2vec.c flags: -train F -output F ... -classes K; distributed: "
          "--ranks P (thread backend) or --distributed / --backend mpi under mpirun, --combiner "
          "adasum|average|touched-average|sum, --rounds-per-epoch R (default: max(128, corpus "
          "words / (P x 8000)); 1 at P = 1), --checkpoint P [--checkpoint-rounds K], --resume)");
      train->prefix_command();
      train->fallthrough(false);  // keep the raw flags here, not at the root
      ctx.SetVerb(train, [&ctx, train] { return Train(ctx, train->remaining()); });

      auto eval_args = std::make_shared<EvalArgs>();
      CLI::App* eval = app.add_subcommand(
          "eval", "Analogy accuracy (compute-accuracy) and word-similarity Spearman");
      eval->add_option("vectors", eval_args->vectors, "Vector file (.bin or .txt)")->required();
      eval->add_option("--questions", eval_args->questions,
                       "Analogy questions (questions-words.txt format)");
      eval->add_option("--threshold", eval_args->threshold,
                       "Read only the first N vectors (0 = all)");
      eval->add_option("--wordsim", eval_args->wordsim,
                       "Word pairs with human scores (WordSim353 TSV)");
      ctx.SetVerb(eval, [&ctx, eval_args] { return Eval(ctx, *eval_args); });

      struct QueryArgs {
        std::string vectors;
        std::vector<std::string> words;
        int k = 10;
      };
      auto sim = std::make_shared<QueryArgs>();
      struct ClassesArgs {
        std::string vectors, output;
        int64_t k = 0;
      };
      auto cls = std::make_shared<ClassesArgs>();
      CLI::App* classes = app.add_subcommand(
          "classes", "K-means word classes of a vector file (word2vec.c's -classes output)");
      classes->add_option("--vectors", cls->vectors, "Vector file (.bin or .txt)")->required();
      classes->add_option("-k", cls->k, "Number of classes")->required();
      classes
          ->add_option("-o,--output", cls->output, "Class file to write (<word> <class> per line)")
          ->required();
      ctx.SetVerb(classes, [&ctx, cls]() -> Status {
        LOOM_ASSIGN_OR_RETURN(w2v::WordVectors v, w2v::ReadVectors(cls->vectors));
        LOOM_ASSIGN_OR_RETURN(
            std::vector<int32_t> c,
            w2v::WordClasses(v.data, static_cast<int64_t>(v.words.size()), v.dim, cls->k));
        LOOM_RETURN_IF_ERROR(w2v::WriteWordClasses(cls->output, v.words, c));
        ctx.Emit({{"vectors", cls->vectors},
                  {"words", v.words.size()},
                  {"classes", cls->k},
                  {"output", cls->output}});
        return OkStatus();
      });

      CLI::App* similar = app.add_subcommand("similar", "Nearest neighbours of WORD by cosine");
      similar->add_option("word", sim->words, "The word")->required()->expected(1);
      similar->add_option("--vectors", sim->vectors, "Vector file")->required();
      similar->add_option("-k", sim->k, "How many neighbours");
      ctx.SetVerb(similar, [&ctx, sim]() -> Status {
        LOOM_ASSIGN_OR_RETURN(w2v::WordVectors v, w2v::ReadVectors(sim->vectors));
        LOOM_ASSIGN_OR_RETURN(w2v::Neighbours n, w2v::Similar(v, sim->words[0], sim->k));
        PrintNeighbours(ctx, sim->words[0], n);
        return OkStatus();
      });

      auto an = std::make_shared<QueryArgs>();
      CLI::App* analogy =
          app.add_subcommand("analogy", "A is to B as C is to ? (nearest to B - A + C)");
      analogy->add_option("words", an->words, "A B C")->required()->expected(3);
      analogy->add_option("--vectors", an->vectors, "Vector file")->required();
      analogy->add_option("-k", an->k, "How many answers");
      ctx.SetVerb(analogy, [&ctx, an]() -> Status {
        LOOM_ASSIGN_OR_RETURN(w2v::WordVectors v, w2v::ReadVectors(an->vectors));
        LOOM_ASSIGN_OR_RETURN(w2v::Neighbours n,
                              w2v::Analogy(v, an->words[0], an->words[1], an->words[2], an->k));
        PrintNeighbours(ctx,
                        StrCat(an->words[0], " : ", an->words[1], " :: ", an->words[2], " : ?"), n);
        return OkStatus();
      });
    });

LOOM_REGISTER_DEMO_STAGE(w2v, 50, W2vDemo);

}  // namespace loom::cli
