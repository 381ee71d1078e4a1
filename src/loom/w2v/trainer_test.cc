// The trainers against their oracles: the reference trainer against word2vec.c's own output
// (goldens made by scripts/w2v-make-goldens.sh), the fast trainer against the reference.
#include "loom/w2v/trainer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "loom/base/file_io.h"
#include "loom/testing/temp_dir.h"
#include "loom/w2v/corpus.h"
#include "loom/w2v/reference_trainer.h"
#include "loom/w2v/token_chunks.h"
#include "loom/w2v/vectors_io.h"

namespace loom::w2v {
namespace {

std::string TestData(const std::string& name) { return std::string(LOOM_W2V_TESTDATA) + "/" + name; }

struct Fixture {
  Vocabulary vocab;
  loom::testing::TempDir dir;
  std::unique_ptr<TokenFile> tokens;
  Fixture() {
    vocab = *ReadVocab(TestData("tiny.vocab"), 2);
    LOOM_CHECK_OK(EncodeCorpus(TestData("tiny.txt"), vocab, dir.File("t.bin")).status());
    tokens = std::move(TokenFile::Open(dir.File("t.bin"))).value();
  }
};

TrainOptions GoldenOptions(bool cbow, bool hs, int negative) {
  TrainOptions o;
  o.dim = 12;
  o.window = 3;
  o.sample = 1e-2f;
  o.cbow = cbow;
  o.hs = hs;
  o.negative = negative;
  o.threads = 1;
  o.iter = 1;
  o.alpha = 0.05f;
  o.min_count = 2;
  return o;
}

struct GoldenCase { const char* file; bool cbow, hs; int negative; };

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, ReferenceTrainerEqualsWord2vecCBitForBit) {
  Fixture f;
  const GoldenCase& g = GetParam();
  TrainOptions o = GoldenOptions(g.cbow, g.hs, g.negative);
  auto ctx = TrainContext::Create(f.vocab, o);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  Model m = InitModel(f.vocab.size(), o.dim, o.hs, o.negative > 0, 1);
  ReferenceTrain(**ctx, f.tokens->tokens(), &m);
  auto golden = ReadVectors(TestData(g.file), VectorFormat::kBinary);
  ASSERT_TRUE(golden.ok()) << golden.status();
  ASSERT_EQ(golden->words, f.vocab.words());
  ASSERT_EQ(golden->data.size(), m.syn0.size());
  for (size_t i = 0; i < m.syn0.size(); ++i) ASSERT_EQ(golden->data[i], m.syn0[i]) << "element " << i;
  // And the fast trainer with the sequential kernels takes the same path, bit for bit.
  Model fast = InitModel(f.vocab.size(), o.dim, o.hs, o.negative > 0, 1);
  TrainState s = InitialTrainState(o);
  ASSERT_TRUE(Train(**ctx, f.tokens->tokens(), &fast, &s, {}, Kernels::kSequential).ok());
  ASSERT_EQ(fast.syn0, m.syn0);
}

INSTANTIATE_TEST_SUITE_P(W2v, GoldenTest,
                         ::testing::Values(GoldenCase{"golden_sg_ns.bin", false, false, 3},
                                           GoldenCase{"golden_cbow_ns.bin", true, false, 3},
                                           GoldenCase{"golden_sg_hs.bin", false, true, 0},
                                           GoldenCase{"golden_cbow_hsns.bin", true, true, 2}),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           std::string n = info.param.file;
                           return n.substr(7, n.size() - 11);  // golden_<name>.bin
                         });

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

TEST(Trainer, FastKernelsTrackTheReferenceOverSeveralEpochs) {
  Fixture f;
  for (bool cbow : {false, true}) {
    for (bool hs : {false, true}) {
      TrainOptions o = GoldenOptions(cbow, hs, hs ? 0 : 5);
      o.iter = 3;
      auto ctx = TrainContext::Create(f.vocab, o);
      ASSERT_TRUE(ctx.ok());
      Model ref = InitModel(f.vocab.size(), o.dim, o.hs, o.negative > 0, 1);
      ReferenceTrain(**ctx, f.tokens->tokens(), &ref);
      Model seq = InitModel(f.vocab.size(), o.dim, o.hs, o.negative > 0, 1);
      TrainState s1 = InitialTrainState(o);
      ASSERT_TRUE(Train(**ctx, f.tokens->tokens(), &seq, &s1, {}, Kernels::kSequential).ok());
      EXPECT_EQ(seq.syn0, ref.syn0) << "cbow " << cbow << " hs " << hs;  // multi-epoch, alpha decay
      Model fast = InitModel(f.vocab.size(), o.dim, o.hs, o.negative > 0, 1);
      TrainState s2 = InitialTrainState(o);
      ASSERT_TRUE(Train(**ctx, f.tokens->tokens(), &fast, &s2).ok());
      // Only the dot products' summation order differs.
      EXPECT_LT(MaxAbsDiff(fast.syn0, ref.syn0), 1e-4) << "cbow " << cbow << " hs " << hs;
      EXPECT_GT(MaxAbsDiff(fast.syn0, InitModel(f.vocab.size(), o.dim, false, false, 1).syn0), 1e-2);
      EXPECT_EQ(s2.words_done, 3 * f.vocab.train_words());
    }
  }
}

// Threads racing for chunks get every token exactly once, in chunks of the stated size; one
// thread gets the whole range as one chunk (its run must stay word2vec.c's).
TEST(TokenChunks, ConcurrentTakersCoverEveryTokenOnce) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{8191}, size_t{100003}, size_t{1} << 20}) {
    for (int threads : {1, 2, 3, 8}) {
      TokenChunks chunks(n, threads);
      std::vector<std::atomic<int>> seen(n);
      std::vector<std::thread> pool;
      std::atomic<int> calls{0};
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
          for (auto r = chunks.Next(); r.begin < r.end; r = chunks.Next()) {
            ++calls;
            EXPECT_LE(r.end - r.begin, chunks.chunk_size());
            for (size_t i = r.begin; i < r.end; ++i) seen[i].fetch_add(1);
          }
        });
      for (auto& th : pool) th.join();
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(seen[i].load(), 1) << "token " << i << " of " << n;
      if (threads == 1) {
        EXPECT_EQ(calls.load(), n > 0 ? 1 : 0) << n;
      }
      // Every thread can get work: a distributed rank's round slice (<= 8K words at the
      // default rounds) is shorter than TokenChunks::kMinChunk, and one chunk left -threads
      // T - 1 of a rank's threads idle in every round.
      if (threads > 1 && n >= static_cast<size_t>(threads)) {
        EXPECT_GE((n + chunks.chunk_size() - 1) / chunks.chunk_size(), static_cast<size_t>(threads))
            << n << " tokens, " << threads << " threads";
      }
      if (threads > 1 && n >= (size_t{1} << 20)) {
        EXPECT_GE(static_cast<size_t>(calls.load()),
                  TokenChunks::kChunksPerThread * static_cast<size_t>(threads))
            << n;
      }
    }
  }
}

TEST(Trainer, MultiThreadedRunCoversEveryWordAndLearns) {
  Fixture f;
  for (Mode mode : {Mode::kExact, Mode::kBatched}) {
    TrainOptions o = GoldenOptions(false, false, 5);
    o.threads = 3;
    o.iter = 2;
    o.mode = mode;
    auto ctx = TrainContext::Create(f.vocab, o);
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    Model m = InitModel(f.vocab.size(), o.dim, false, true, 1);
    TrainState s = InitialTrainState(o);
    ASSERT_TRUE(Train(**ctx, f.tokens->tokens(), &m, &s).ok());
    EXPECT_EQ(s.words_done, 2 * f.vocab.train_words());
    for (float x : m.syn0) ASSERT_TRUE(std::isfinite(x));
    // Words in the same slot of the grammar end up closer than words in different slots.
    auto cos = [&](const char* a, const char* b) {
      const float* x = m.row0(f.vocab.Find(a));
      const float* y = m.row0(f.vocab.Find(b));
      double xy = 0, xx = 0, yy = 0;
      for (int64_t k = 0; k < m.dim; ++k) { xy += x[k] * y[k]; xx += x[k] * x[k]; yy += y[k] * y[k]; }
      return xy / std::sqrt(xx * yy);
    };
    EXPECT_GT(cos("castle", "forest"), cos("castle", "likes")) << static_cast<int>(mode);
  }
}

// A thread refreshes alpha every 10,000 of its own words (word2vec.c). Several threads take
// the pass in chunks (token_chunks.h) that are shorter than that on a small corpus, so the
// count must carry from a thread's chunk to its next: without it alpha never decayed.
TEST(Trainer, AlphaDecaysWhenChunksAreShorterThanTheRefreshInterval) {
  Fixture f;
  // The tiny corpus five times over: 70K tokens, chunks of 8,192 (kMinChunk), ~35K words per
  // thread.
  std::vector<uint32_t> tokens;
  for (int k = 0; k < 5; ++k)
    tokens.insert(tokens.end(), f.tokens->tokens().begin(), f.tokens->tokens().end());
  ASSERT_LT(tokens.size() / (TokenChunks::kChunksPerThread * 2), 10000u);
  ASSERT_GT(tokens.size() / 2, 25000u);
  for (Mode mode : {Mode::kExact, Mode::kBatched}) {
    TrainOptions o = GoldenOptions(false, false, 5);
    o.threads = 2;
    o.iter = 10;  // the decay's horizon: 10 x the vocabulary's train words
    o.mode = mode;
    auto ctx = TrainContext::Create(f.vocab, o);
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    Model m = InitModel(f.vocab.size(), o.dim, false, true, 1);
    TrainState s = InitialTrainState(o);
    ASSERT_TRUE(TrainSlice(**ctx, tokens, &m, &s).ok());
    // How the chunks split between the threads depends on scheduling, but one thread trained
    // at least half the pass (35K words) and so refreshed at least three times, the last time
    // with the clock past 30,000: its alpha is at most the decay there. Counted per chunk
    // (8,192 words), no thread ever refreshed.
    ASSERT_LT(DecayedAlpha(**ctx, 30000), 0.9f * o.starting_alpha());
    EXPECT_LE(*std::min_element(s.alpha.begin(), s.alpha.end()), DecayedAlpha(**ctx, 30000))
        << static_cast<int>(mode);
  }
}

// The distributed trainer compares only the output rows TrainSlice marks: every syn1neg / syn1
// row the pass changed must be marked, in every mode and with several threads. The tiny
// corpus's vocabulary is small enough that most rows are drawn, so also check that the marks
// are not simply "all rows" on a pass over a few sentences.
TEST(Trainer, TouchedOutputRowsCoverEveryChangedRow) {
  Fixture f;
  struct Case { bool cbow, hs; int negative; Mode mode; };
  for (Case c : {Case{false, false, 5, Mode::kExact}, Case{true, true, 5, Mode::kExact},
                 Case{false, true, 0, Mode::kExact}, Case{false, false, 5, Mode::kBatched}}) {
    TrainOptions o = GoldenOptions(c.cbow, c.hs, c.negative);
    o.mode = c.mode;
    o.threads = 2;
    auto ctx = TrainContext::Create(f.vocab, o);
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    for (size_t n : {size_t{12}, f.tokens->tokens().size()}) {
      Model m = InitModel(f.vocab.size(), o.dim, o.hs, o.negative > 0, 1);
      for (float& x : m.syn1neg) x = 0.5f;  // nonzero, so a zero gradient step is no change either
      const Model before = m;
      TrainState s = InitialTrainState(o);
      std::vector<uint8_t> marks;
      ASSERT_TRUE(TrainSlice(**ctx, f.tokens->tokens().subspan(0, n), &m, &s, Kernels::kFast, &marks).ok());
      ASSERT_EQ(marks.size(), static_cast<size_t>(f.vocab.size()));
      int64_t changed = 0, marked = 0;
      for (auto [now, was] : {std::pair{&m.syn1neg, &before.syn1neg}, std::pair{&m.syn1, &before.syn1}}) {
        const size_t d = static_cast<size_t>(o.dim);
        for (size_t r = 0; r * d < now->size(); ++r) {
          const bool diff = !std::equal(now->begin() + r * d, now->begin() + (r + 1) * d, was->begin() + r * d);
          changed += diff;
          EXPECT_TRUE(!diff || marks[r]) << "row " << r << " changed but not marked, case cbow=" << c.cbow
                                         << " hs=" << c.hs << " n=" << n;
        }
      }
      for (uint8_t x : marks) marked += x;
      EXPECT_GT(changed, 0);
      if (n == 12) {
        EXPECT_LT(marked, f.vocab.size());
      }
    }
  }
}

// A diverged model (a NaN in a row that training reads) used to index the sigmoid table with
// the undefined int conversion of NaN and crash; now every kernel keeps going and Train
// reports the divergence after the epoch, naming the matrix and row.
TEST(Trainer, DivergedModelIsAnErrorNotACrash) {
  Fixture f;
  struct Case { bool cbow, hs; int negative; Mode mode; };
  for (Case c : {Case{false, false, 5, Mode::kExact}, Case{true, false, 5, Mode::kExact}, Case{false, true, 0, Mode::kExact},
                 Case{true, true, 2, Mode::kExact}, Case{false, false, 5, Mode::kBatched}}) {
    TrainOptions o = GoldenOptions(c.cbow, c.hs, c.negative);
    o.mode = c.mode;
    auto ctx = TrainContext::Create(f.vocab, o);
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    Model m = InitModel(f.vocab.size(), o.dim, o.hs, o.negative > 0, 1);
    m.row0(1)[3] = std::nanf("");  // the most frequent word after </s>
    TrainState s = InitialTrainState(o);
    Status st = Train(**ctx, f.tokens->tokens(), &m, &s);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st;
    EXPECT_NE(st.ToString().find("diverged in epoch 1"), std::string::npos) << st;
    EXPECT_EQ(s.epochs_done, 0);
  }
}

TEST(Trainer, CheckFiniteNamesTheFirstBadValue) {
  Model m = InitModel(4, 3, false, true, 1);
  EXPECT_TRUE(CheckFinite(m, "now").ok());
  m.syn1neg[2 * 3 + 1] = std::numeric_limits<float>::infinity();
  Status st = CheckFinite(m, "after epoch 2");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.ToString().find("after epoch 2: syn1neg row 2 column 1 is inf"), std::string::npos) << st;
}

TEST(Trainer, RejectsMismatchedState) {
  Fixture f;
  TrainOptions o = GoldenOptions(false, false, 5);
  auto ctx = TrainContext::Create(f.vocab, o);
  ASSERT_TRUE(ctx.ok());
  Model m = InitModel(f.vocab.size(), o.dim, false, true, 1);
  TrainOptions two = o;
  two.threads = 2;
  TrainState s = InitialTrainState(two);
  EXPECT_EQ(Train(**ctx, f.tokens->tokens(), &m, &s).code(), StatusCode::kFailedPrecondition);
  TrainOptions bad = o;
  bad.mode = Mode::kBatched;
  bad.cbow = true;
  EXPECT_EQ(TrainContext::Create(f.vocab, bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace loom::w2v
