#include <gtest/gtest.h>
TEST(Placeholder, Routing) {}
