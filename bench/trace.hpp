// Key traces for cache benchmarks: read from a file, or generated.
//
// A trace is a sequence of key ids, dense in [0, distinct): the n-th distinct key of the file is id n,
// so a KeySpace (keys.hpp) formats it. Not thread-safe while loading; a loaded Trace is immutable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "zipf.hpp"

namespace mantis::bench {

struct Trace {
  std::vector<std::uint64_t> requests;  // key ids, in request order
  std::uint64_t distinct = 0;           // ids are < distinct
};

// Reads a trace file, one request per line: a line with one token is a key (any text; the LIRS traces
// hold one block number per line); a line with two or more numbers, "start count ...", is `count`
// requests of the blocks start .. start + count - 1 (the ARC traces). Blank lines and lines starting
// with '#' are skipped. Throws std::runtime_error when the file cannot be read or a line is malformed.
inline Trace load_trace(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open trace " + path);
  Trace trace;
  std::unordered_map<std::string, std::uint64_t> ids;
  auto request = [&](const std::string& key) {
    const auto [it, inserted] = ids.try_emplace(key, trace.distinct);
    if (inserted) ++trace.distinct;
    trace.requests.push_back(it->second);
  };
  std::string line;
  std::size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    std::istringstream fields(line);
    std::string first;
    if (!(fields >> first) || first[0] == '#') continue;
    std::uint64_t count = 0;
    if (!(fields >> count)) {
      request(first);
      continue;
    }
    std::uint64_t start = 0;
    try {
      start = std::stoull(first);
    } catch (const std::exception&) {
      throw std::runtime_error(path + ":" + std::to_string(line_number) + ": expected \"start count ...\"");
    }
    for (std::uint64_t i = 0; i < count; ++i) request(std::to_string(start + i));
  }
  return trace;
}

// A recency-skewed trace, the kind exact LRU serves best: each request is a key never seen before with
// probability `new_share`, else a repeat of the key requested `distance` requests ago, with `distance`
// uniform in [1, max_distance]. Hot keys are only ever recent ones; frequency says little.
inline Trace recency_trace(std::uint64_t length, double new_share, std::uint64_t max_distance, std::uint64_t seed) {
  FastRandom random(seed);
  Trace trace;
  trace.requests.reserve(length);
  for (std::uint64_t i = 0; i < length; ++i) {
    if (i == 0 || random.unit() < new_share) {
      trace.requests.push_back(trace.distinct++);
    } else {
      const std::uint64_t distance = 1 + random.below(std::min<std::uint64_t>(max_distance, i));
      trace.requests.push_back(trace.requests[i - distance]);
    }
  }
  return trace;
}

}  // namespace mantis::bench
