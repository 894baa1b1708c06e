# Every dependency comes from Debian's packages; scripts/install-deps installs them.
find_package(MPI REQUIRED COMPONENTS C CXX)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(libjpeg-turbo REQUIRED)

# Parallel HDF5 is checked, not assumed: a serial library cannot write one shared file.
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
    message(FATAL_ERROR "The HDF5 found (${HDF5_C_INCLUDE_DIRS}) is serial; cardsynth needs "
                        "parallel HDF5: apt-get install libhdf5-openmpi-dev")
endif()
add_library(cardsynth_hdf5 INTERFACE)
target_include_directories(cardsynth_hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS})
target_link_libraries(cardsynth_hdf5 INTERFACE ${HDF5_C_LIBRARIES} MPI::MPI_C)
target_compile_definitions(cardsynth_hdf5 INTERFACE ${HDF5_C_DEFINITIONS})
add_library(cardsynth::hdf5 ALIAS cardsynth_hdf5)

# The Python module: for the interpreter the integration tests run (/usr/bin/python3, whose
# packages hold numpy, h5py and torch), not whichever python3 comes first on PATH.
set(CARDSYNTH_WITH_PYTHON OFF)
if(NOT CARDSYNTH_PYTHON STREQUAL "OFF")
    if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
        set(Python3_EXECUTABLE /usr/bin/python3)
    endif()
    find_package(Python3 COMPONENTS Interpreter Development.Module)
    if(Python3_FOUND)
        find_package(pybind11 CONFIG QUIET)
    endif()
    if(Python3_FOUND AND pybind11_FOUND)
        set(CARDSYNTH_WITH_PYTHON ON)
        message(STATUS "cardsynth: Python module ON (CARDSYNTH_PYTHON=${CARDSYNTH_PYTHON}, "
                       "Python ${Python3_VERSION} at ${Python3_EXECUTABLE}, pybind11 ${pybind11_VERSION})")
    elseif(CARDSYNTH_PYTHON STREQUAL "ON")
        message(FATAL_ERROR "CARDSYNTH_PYTHON=ON but Python 3 development files or pybind11 were "
                            "not found: apt-get install python3-dev pybind11-dev")
    endif()
endif()
if(NOT CARDSYNTH_WITH_PYTHON)
    message(STATUS "cardsynth: Python module OFF (CARDSYNTH_PYTHON=${CARDSYNTH_PYTHON})")
endif()
