#include <gtest/gtest.h>

#include "loom/base/file_io.h"
#include "loom/testing/temp_dir.h"
#include "loom/w2v/checkpoint.h"
#include "loom/w2v/corpus.h"
#include "loom/w2v/train_pipeline.h"
#include "loom/w2v/vectors_io.h"

namespace loom::w2v {
namespace {

TEST(Checkpoint, ResumedRunEqualsUninterruptedRun) {
  loom::testing::TempDir dir;
  std::string text;
  for (int i = 0; i < 3000; ++i) text += (i % 2 ? "the cat sat on a mat\n" : "a dog ran to the park\n");
  ASSERT_TRUE(WriteFileAtomically(dir.File("c.txt"), text).ok());
  auto vocab = LearnVocab(dir.File("c.txt"), {.min_count = 1});
  ASSERT_TRUE(vocab.ok());
  ASSERT_TRUE(EncodeCorpus(dir.File("c.txt"), *vocab, dir.File("t")).ok());
  auto tf = TokenFile::Open(dir.File("t"));
  ASSERT_TRUE(tf.ok());
  for (bool hs : {false, true}) {
    TrainOptions o;
    o.dim = 16;
    o.iter = 3;
    o.hs = hs;
    o.cbow = !hs;
    auto ctx = TrainContext::Create(*vocab, o);
    ASSERT_TRUE(ctx.ok());
    Model full = InitModel(vocab->size(), o.dim, o.hs, true, 1);
    TrainState fs = InitialTrainState(o);
    ASSERT_TRUE(Train(**ctx, (*tf)->tokens(), &full, &fs).ok());

    Model part = InitModel(vocab->size(), o.dim, o.hs, true, 1);
    TrainState ps = InitialTrainState(o);
    std::string ck = dir.File("ck");
    Status st = Train(**ctx, (*tf)->tokens(), &part, &ps, [&](const TrainState& s) -> Status {
      LOOM_RETURN_IF_ERROR(SaveCheckpoint(ck, o, *vocab, part, s));
      return s.epochs_done == 1 ? UnavailableError("simulated crash") : OkStatus();
    });
    ASSERT_EQ(st.code(), StatusCode::kUnavailable);
    auto c = LoadCheckpoint(ck);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->state.epochs_done, 1);
    EXPECT_EQ(c->vocab.words(), vocab->words());
    auto ctx2 = TrainContext::Create(c->vocab, c->options);
    ASSERT_TRUE(ctx2.ok());
    ASSERT_TRUE(Train(**ctx2, (*tf)->tokens(), &c->model, &c->state).ok());
    EXPECT_EQ(c->model.syn0, full.syn0);
    EXPECT_EQ(c->model.syn1neg, full.syn1neg);

    auto bytes = ReadFileToString(ck);
    ASSERT_TRUE(bytes.ok());
    ASSERT_TRUE(WriteFileAtomically(dir.File("short"), bytes->substr(0, bytes->size() - 3)).ok());
    EXPECT_EQ(LoadCheckpoint(dir.File("short")).status().code(), StatusCode::kDataLoss);
  }
}

// `loom w2v train --resume --checkpoint C` without -iter continues the checkpoint's run: it
// ends where the uninterrupted run ends (same epochs, same alpha horizon), not at the -iter
// default of 5. Only an -iter given on the command line may extend the run.
TEST(Checkpoint, ResumeWithoutIterFinishesTheCheckpointedRun) {
  loom::testing::TempDir dir;
  std::string text;
  for (int i = 0; i < 2000; ++i) text += (i % 3 ? "the cat sat on a mat\n" : "a dog ran to the park\n");
  ASSERT_TRUE(WriteFileAtomically(dir.File("c.txt"), text).ok());
  PipelineOptions p;
  p.train_file = dir.File("c.txt");
  p.train.dim = 8;
  p.train.iter = 2;
  p.train.min_count = 1;
  p.train.threads = 1;
  p.binary = true;
  p.progress = false;
  p.output = dir.File("full.bin");
  ASSERT_TRUE(RunTraining(p).ok());

  // The same run, stopped after its first epoch with a checkpoint.
  auto vocab = LearnVocab(p.train_file, {.min_count = 1});
  ASSERT_TRUE(vocab.ok());
  ASSERT_TRUE(EncodeCorpus(p.train_file, *vocab, dir.File("t")).ok());
  auto tf = TokenFile::Open(dir.File("t"));
  ASSERT_TRUE(tf.ok());
  auto ctx = TrainContext::Create(*vocab, p.train);
  ASSERT_TRUE(ctx.ok());
  Model m = InitModel(vocab->size(), p.train.dim, p.train.hs, true, 1);
  TrainState s = InitialTrainState(p.train);
  const std::string ck = dir.File("ck");
  Status st = Train(**ctx, (*tf)->tokens(), &m, &s, [&](const TrainState& t) -> Status {
    LOOM_RETURN_IF_ERROR(SaveCheckpoint(ck, p.train, *vocab, m, t));
    return UnavailableError("simulated crash");
  });
  ASSERT_EQ(st.code(), StatusCode::kUnavailable);

  PipelineOptions r;  // what the CLI passes for `-train c.txt -output ... --resume --checkpoint ck`
  r.train_file = p.train_file;
  r.binary = true;
  r.progress = false;
  r.resume = true;
  r.checkpoint = ck;
  r.output = dir.File("resumed.bin");
  ASSERT_TRUE(RunTraining(r).ok());
  auto full = ReadVectors(p.output), resumed = ReadVectors(r.output);
  ASSERT_TRUE(full.ok() && resumed.ok());
  EXPECT_EQ(resumed->data, full->data);
  auto c = LoadCheckpoint(ck);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->state.epochs_done, 2);

  // An explicit -iter extends the run.
  r.train.iter = 3;
  r.iter_set = true;
  r.output = dir.File("extended.bin");
  ASSERT_TRUE(RunTraining(r).ok());
  c = LoadCheckpoint(ck);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->state.epochs_done, 3);
}

}  // namespace
}  // namespace loom::w2v
