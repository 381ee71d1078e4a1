#include "loom/w2v/train_pipeline.h"

#include <cstdio>

#include "loom/base/logging.h"
#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/w2v/checkpoint.h"
#include "loom/w2v/corpus.h"
#include "loom/w2v/trainer.h"
#include "loom/w2v/vectors_io.h"
#include "loom/w2v/word_classes.h"

namespace loom::w2v {

Status WriteOutput(const PipelineOptions& p, const std::vector<std::string>& words,
                   const std::vector<float>& syn0, int64_t dim) {
  if (p.classes <= 0) return WriteVectors(p.output, words, syn0.data(), dim, p.binary);
  LOOM_ASSIGN_OR_RETURN(std::vector<int32_t> classes,
                        WordClasses(syn0, static_cast<int64_t>(words.size()), dim, p.classes));
  return WriteWordClasses(p.output, words, classes);
}

StatusOr<PipelineResult> RunTraining(const PipelineOptions& p) {
  Stopwatch total;
  PipelineResult result;
  if (p.train_file.empty()) return InvalidArgumentError("-train is required");
  if (p.classes < 0) return InvalidArgumentError(StrCat("-classes ", p.classes, ": must be >= 0"));
  LOOM_RETURN_IF_ERROR(p.train.Validate());
  Vocabulary vocab;
  TrainOptions opts = p.train;
  Model model;
  TrainState state;
  if (p.resume) {
    if (p.checkpoint.empty()) return InvalidArgumentError("--resume needs --checkpoint PATH");
    LOOM_ASSIGN_OR_RETURN(Checkpoint c, LoadCheckpoint(p.checkpoint));
    const int iter = opts.iter;
    opts = c.options;
    if (p.iter_set) opts.iter = std::max(iter, opts.iter);  // only an explicit -iter extends
    vocab = std::move(c.vocab);
    model = std::move(c.model);
    state = std::move(c.state);
    LOOM_LOG(kInfo) << "resuming " << p.checkpoint << " after epoch " << state.epochs_done;
  } else {
    if (!p.read_vocab.empty()) {
      LOOM_ASSIGN_OR_RETURN(vocab, ReadVocab(p.read_vocab, opts.min_count));
    } else {
      LOOM_ASSIGN_OR_RETURN(vocab, LearnVocab(p.train_file, {.min_count = opts.min_count}));
    }
  }
  if (!p.save_vocab.empty()) LOOM_RETURN_IF_ERROR(SaveVocab(vocab, p.save_vocab));
  result.vocab_size = vocab.size();
  result.train_words = vocab.train_words();
  if (p.output.empty() && p.checkpoint.empty()) return result;  // vocabulary only, as word2vec.c
  std::string token_path = (p.output.empty() ? p.checkpoint : p.output) + ".tokens.tmp";
  LOOM_ASSIGN_OR_RETURN(result.tokens, EncodeCorpus(p.train_file, vocab, token_path));
  auto tf = TokenFile::Open(token_path);
  std::remove(token_path.c_str());  // the mapping keeps the data alive
  if (!tf.ok()) return tf.status();
  if (!p.resume) {
    model = InitModel(vocab.size(), opts.dim, opts.hs, opts.negative > 0, opts.seed);
    state = InitialTrainState(opts);
  }
  LOOM_ASSIGN_OR_RETURN(auto ctx, TrainContext::Create(vocab, opts));
  Stopwatch sw;
  EpochCallback after = [&](const TrainState& s) -> Status {
    LOOM_LOG(kInfo) << "epoch " << s.epochs_done << "/" << opts.iter << " done, "
                    << s.words_done << " words, " << sw.ElapsedSeconds() << " s";
    if (!p.checkpoint.empty()) return SaveCheckpoint(p.checkpoint, opts, vocab, model, s);
    return OkStatus();
  };
  int64_t epochs_before = state.epochs_done;
  LOOM_RETURN_IF_ERROR(Train(*ctx, (*tf)->tokens(), &model, &state, after));
  result.train_seconds = sw.ElapsedSeconds();
  result.train_cpu_seconds = state.cpu_seconds;
  result.tokens *= (state.epochs_done - epochs_before);
  if (!p.output.empty()) LOOM_RETURN_IF_ERROR(WriteOutput(p, vocab.words(), model.syn0, model.dim));
  result.total_seconds = total.ElapsedSeconds();
  return result;
}

}  // namespace loom::w2v
