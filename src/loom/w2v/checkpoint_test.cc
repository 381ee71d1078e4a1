#include <gtest/gtest.h>

#include "loom/base/file_io.h"
#include "loom/testing/temp_dir.h"
#include "loom/w2v/checkpoint.h"
#include "loom/w2v/corpus.h"

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

}  // namespace
}  // namespace loom::w2v
