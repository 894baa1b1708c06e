// Whole-file reads of user inputs: regular files only, refused above the limit before reading.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "base/error.h"
#include "base/input_file.h"

using namespace cardsynth;

namespace {
std::string temp_file(const std::string& name, const std::string& content) {
    const std::string path = "/tmp/cs_input_file_" + std::to_string(::getpid()) + "_" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
}

std::string error_of(const std::string& path, int64_t limit) {
    try {
        read_input_file(path, limit, "config file");
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("a regular file within the limit is read whole", "[input_file]") {
    const std::string path = temp_file("ok", std::string("a: 1\n\0b", 7));
    CHECK(read_input_file(path, 7, "config file") == std::string("a: 1\n\0b", 7));
    std::remove(path.c_str());
}

TEST_CASE("a file over the limit is refused with its size and the limit", "[input_file]") {
    const std::string path = temp_file("big", std::string(2048, 'x'));
    const std::string why = error_of(path, 1024);
    CHECK(why.find(path) != std::string::npos);
    CHECK(why.find("2 KiB") != std::string::npos);
    CHECK(why.find("1 KiB") != std::string::npos);
    std::remove(path.c_str());
}

TEST_CASE("devices and directories are refused before reading", "[input_file]") {
    CHECK(error_of("/dev/zero", 1 << 20).find("not a regular file") != std::string::npos);
    CHECK(error_of("/tmp", 1 << 20).find("is a directory") != std::string::npos);
    CHECK(error_of("/no/such/file", 1 << 20).find("/no/such/file") != std::string::npos);
}
