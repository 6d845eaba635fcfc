# Builds libinr (libinr.so and libinr.a) with cargo. Run in script mode, both
# at configure time (so that the imported targets' files exist) and by the
# custom target `inr_cargo_build` (so that `cmake --build` picks up changes to
# the Rust sources; cargo decides what is stale, a no-op takes a moment):
#
#   cmake -DINR_SOURCE_DIR=<repo> -DINR_CARGO=<cargo> -DINR_CARGO_TARGET_DIR=<dir>
#         [-DINR_CARGO_ARGS=<extra args, space-separated>] -P INRCargoBuild.cmake
#
# If the library has a SONAME other than its file name (e.g. libinr.so.1),
# a symlink of that name is made next to it, so that programs linked against
# the build tree find it at run time.
cmake_minimum_required(VERSION 3.16)

foreach(_var INR_SOURCE_DIR INR_CARGO INR_CARGO_TARGET_DIR)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "INRCargoBuild.cmake: ${_var} is not set")
  endif()
endforeach()
include("${CMAKE_CURRENT_LIST_DIR}/INRHelpers.cmake")

# The target dir is fixed when the project is configured, whatever the
# environment of a later `cmake --build`.
set(ENV{CARGO_TARGET_DIR} "${INR_CARGO_TARGET_DIR}")
separate_arguments(_args UNIX_COMMAND "${INR_CARGO_ARGS}")
execute_process(
  COMMAND "${INR_CARGO}" build --release --package inr --lib --locked ${_args}
  WORKING_DIRECTORY "${INR_SOURCE_DIR}"
  RESULT_VARIABLE _rv)
if(NOT _rv EQUAL 0)
  message(FATAL_ERROR "INR: `cargo build --release --package inr --lib --locked` failed (${_rv}) in ${INR_SOURCE_DIR}")
endif()

set(_dir "${INR_CARGO_TARGET_DIR}/release")
foreach(_file libinr.so libinr.a)
  if(NOT EXISTS "${_dir}/${_file}")
    message(FATAL_ERROR "INR: cargo succeeded but ${_dir}/${_file} is missing")
  endif()
endforeach()

inr_read_soname("${_dir}/libinr.so" _soname)
if(_soname AND NOT _soname STREQUAL "libinr.so")
  file(CREATE_LINK "libinr.so" "${_dir}/${_soname}" SYMBOLIC)
endif()
