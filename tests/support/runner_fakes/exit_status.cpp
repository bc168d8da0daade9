// An exit-code test (no TAP): exits with the status given, 77 being meson's skip.
#include <cstdlib>

int main(int argc, char** argv) { return argc > 1 ? std::atoi(argv[1]) : 0; }
