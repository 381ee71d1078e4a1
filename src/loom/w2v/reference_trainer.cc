#include "loom/w2v/reference_trainer.h"

#include <vector>

namespace loom::w2v {

void ReferenceTrain(const TrainContext& ctx, std::span<const uint32_t> tokens, Model* model) {
  const TrainOptions& o = ctx.options;
  const int64_t d = model->dim;
  const int64_t window = o.window;
  const int64_t vocab_size = ctx.vocab->size();
  const int64_t train_words = ctx.vocab->train_words();
  const float starting_alpha = o.starting_alpha();
  float* syn0 = model->syn0.data();
  float* syn1 = model->syn1.data();
  float* syn1neg = model->syn1neg.data();
  std::vector<float> neu1(static_cast<size_t>(d)), neu1e(static_cast<size_t>(d));
  int64_t sen[kMaxSentenceLength + 1] = {0};
  int64_t sentence_length = 0, sentence_position = 0, word_count = 0, last_word_count = 0;
  int64_t word_count_actual = 0, local_iter = o.iter;
  uint64_t next_random = ThreadSeed(o.seed, 0);
  float alpha = starting_alpha;
  size_t pos = 0;
  bool eof = false;
  while (true) {
    if (word_count - last_word_count > 10000) {
      word_count_actual += word_count - last_word_count;
      last_word_count = word_count;
      alpha = starting_alpha *
              (1 - word_count_actual / static_cast<float>(o.iter * train_words + 1));
      if (alpha < starting_alpha * 0.0001) alpha = static_cast<float>(starting_alpha * 0.0001);
    }
    if (sentence_length == 0) {
      eof = false;
      while (true) {
        if (pos == tokens.size()) {
          eof = true;
          break;
        }
        int64_t word = tokens[pos++];
        word_count++;
        if (word == 0) break;
        if (o.sample > 0) {
          float ran = ctx.keep[static_cast<size_t>(word)];
          next_random = NextRandom(next_random);
          if (ran < (next_random & 0xFFFF) / static_cast<float>(65536)) continue;
        }
        sen[sentence_length] = word;
        sentence_length++;
        if (sentence_length >= kMaxSentenceLength) break;
      }
      sentence_position = 0;
    }
    if (eof && sentence_length == 0) {
      // End of the epoch (word2vec.c's eof flag, reset here: the bug fix).
      word_count_actual += word_count - last_word_count;
      local_iter--;
      if (local_iter == 0) break;
      word_count = 0;
      last_word_count = 0;
      sentence_length = 0;
      pos = 0;
      continue;
    }
    int64_t word = sen[sentence_position];
    for (int64_t c = 0; c < d; c++) neu1[c] = 0;
    for (int64_t c = 0; c < d; c++) neu1e[c] = 0;
    next_random = NextRandom(next_random);
    int64_t b = static_cast<int64_t>(next_random % static_cast<uint64_t>(window));
    if (o.cbow) {
      int64_t cw = 0;
      for (int64_t a = b; a < window * 2 + 1 - b; a++) {
        if (a == window) continue;
        int64_t c = sentence_position - window + a;
        if (c < 0 || c >= sentence_length) continue;
        int64_t last_word = sen[c];
        for (int64_t k = 0; k < d; k++) neu1[k] += syn0[k + last_word * d];
        cw++;
      }
      if (cw) {
        for (int64_t k = 0; k < d; k++) neu1[k] /= cw;
        if (o.hs) {
          const auto& code = ctx.huffman.code[static_cast<size_t>(word)];
          const auto& point = ctx.huffman.point[static_cast<size_t>(word)];
          for (size_t j = 0; j < code.size(); j++) {
            float f = 0;
            int64_t l2 = point[j] * d;
            for (int64_t k = 0; k < d; k++) f += neu1[k] * syn1[k + l2];
            if (f <= -kMaxExp || f >= kMaxExp) continue;
            f = ctx.sigmoid(f);
            float g = (1 - code[j] - f) * alpha;
            for (int64_t k = 0; k < d; k++) neu1e[k] += g * syn1[k + l2];
            for (int64_t k = 0; k < d; k++) syn1[k + l2] += g * neu1[k];
          }
        }
        if (o.negative > 0) {
          for (int64_t j = 0; j < o.negative + 1; j++) {
            int64_t target, label;
            if (j == 0) {
              target = word;
              label = 1;
            } else {
              next_random = NextRandom(next_random);
              target = ctx.noise->Draw(next_random);
              if (target == 0)
                target = static_cast<int64_t>(next_random % static_cast<uint64_t>(vocab_size - 1)) + 1;
              if (target == word) continue;
              label = 0;
            }
            int64_t l2 = target * d;
            float f = 0, g;
            for (int64_t k = 0; k < d; k++) f += neu1[k] * syn1neg[k + l2];
            if (f > kMaxExp) g = (label - 1) * alpha;
            else if (f < -kMaxExp) g = (label - 0) * alpha;
            else g = (label - ctx.sigmoid(f)) * alpha;
            for (int64_t k = 0; k < d; k++) neu1e[k] += g * syn1neg[k + l2];
            for (int64_t k = 0; k < d; k++) syn1neg[k + l2] += g * neu1[k];
          }
        }
        for (int64_t a = b; a < window * 2 + 1 - b; a++) {
          if (a == window) continue;
          int64_t c = sentence_position - window + a;
          if (c < 0 || c >= sentence_length) continue;
          int64_t last_word = sen[c];
          for (int64_t k = 0; k < d; k++) syn0[k + last_word * d] += neu1e[k];
        }
      }
    } else {
      for (int64_t a = b; a < window * 2 + 1 - b; a++) {
        if (a == window) continue;
        int64_t c = sentence_position - window + a;
        if (c < 0 || c >= sentence_length) continue;
        int64_t last_word = sen[c];
        int64_t l1 = last_word * d;
        for (int64_t k = 0; k < d; k++) neu1e[k] = 0;
        if (o.hs) {
          const auto& code = ctx.huffman.code[static_cast<size_t>(word)];
          const auto& point = ctx.huffman.point[static_cast<size_t>(word)];
          for (size_t j = 0; j < code.size(); j++) {
            float f = 0;
            int64_t l2 = point[j] * d;
            for (int64_t k = 0; k < d; k++) f += syn0[k + l1] * syn1[k + l2];
            if (f <= -kMaxExp || f >= kMaxExp) continue;
            f = ctx.sigmoid(f);
            float g = (1 - code[j] - f) * alpha;
            for (int64_t k = 0; k < d; k++) neu1e[k] += g * syn1[k + l2];
            for (int64_t k = 0; k < d; k++) syn1[k + l2] += g * syn0[k + l1];
          }
        }
        if (o.negative > 0) {
          for (int64_t j = 0; j < o.negative + 1; j++) {
            int64_t target, label;
            if (j == 0) {
              target = word;
              label = 1;
            } else {
              next_random = NextRandom(next_random);
              target = ctx.noise->Draw(next_random);
              if (target == 0)
                target = static_cast<int64_t>(next_random % static_cast<uint64_t>(vocab_size - 1)) + 1;
              if (target == word) continue;
              label = 0;
            }
            int64_t l2 = target * d;
            float f = 0, g;
            for (int64_t k = 0; k < d; k++) f += syn0[k + l1] * syn1neg[k + l2];
            if (f > kMaxExp) g = (label - 1) * alpha;
            else if (f < -kMaxExp) g = (label - 0) * alpha;
            else g = (label - ctx.sigmoid(f)) * alpha;
            for (int64_t k = 0; k < d; k++) neu1e[k] += g * syn1neg[k + l2];
            for (int64_t k = 0; k < d; k++) syn1neg[k + l2] += g * syn0[k + l1];
          }
        }
        for (int64_t k = 0; k < d; k++) syn0[k + l1] += neu1e[k];
      }
    }
    sentence_position++;
    if (sentence_position >= sentence_length) sentence_length = 0;
  }
}

}  // namespace loom::w2v
