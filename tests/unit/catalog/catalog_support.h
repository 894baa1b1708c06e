// What the catalog tests share: a scratch directory per test, small text files, and a catalog
// load whose warnings stay off the test output.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "catalog/catalog.h"

namespace cardsynth::testing {

// A fresh directory under the system's temporary directory, removed with everything in it (even
// files a test made unreadable) when the test ends.
struct ScratchDir {
    std::filesystem::path path;
    ScratchDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "cardsynth-catalog-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~ScratchDir() {
        namespace fs = std::filesystem;
        std::error_code ec;
        fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
        for (auto& e : fs::recursive_directory_iterator(path, ec))
            fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path, ec);
    }
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline void write_text(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream out(path, std::ios::binary);
    out << text;
    REQUIRE(out.good());
}

// Catalog::load with stderr sent to /dev/null meanwhile.
inline Catalog quiet_load(const CardsConfig& config) {
    std::fflush(stderr);
    const int saved = ::dup(2);
    FILE* null = std::fopen("/dev/null", "w");
    ::dup2(fileno(null), 2);
    struct Restore {
        int saved;
        FILE* null;
        ~Restore() {
            std::fflush(stderr);
            ::dup2(saved, 2);
            ::close(saved);
            std::fclose(null);
        }
    } restore{saved, null};
    return Catalog::load(config);
}

}  // namespace cardsynth::testing
