#include <gtest/gtest.h>
TEST(Placeholder, Simulator) {}
