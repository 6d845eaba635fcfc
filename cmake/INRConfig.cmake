# INR package configuration for the SOURCE TREE: a consumer project uses the
# library straight from a clone of the repository with
#
#   cmake -S app -B build -DINR_DIR=/path/to/inr/cmake
#   find_package(INR REQUIRED)                       # in app/CMakeLists.txt
#   target_link_libraries(app PRIVATE INR::inr)      # or INR::inr_static
#
# It builds the Rust library with cargo (`cargo build --release --lib
# --locked` in the repository) right away when it is missing, so that the
# imported targets' files exist, and adds a custom target `inr_cargo_build`
# (part of ALL, and a dependency of INR::inr and INR::inr_static) that runs
# cargo on every build, so that changes to the Rust sources are picked up
# before anything links with the library.
#
# An installed libinr (`cmake --install`) has its own, relocatable
# INRConfig.cmake under <prefix>/lib/cmake/INR (from INRConfigInstalled.cmake.in).
#
# Cache variables:
#   INR_CARGO             the cargo program
#   INR_CARGO_TARGET_DIR  cargo's target directory (default: what `cargo
#                         metadata` says, i.e. $CARGO_TARGET_DIR at the first
#                         configure, else <repo>/target)
#   INR_CARGO_ARGS        extra arguments for `cargo build`, space-separated
#                         (e.g. --offline)
#
# Defines:
#   INR::inr              libinr.so, usage requirement: the include dir
#   INR::inr_static       libinr.a plus the system libraries it needs
#   INR_VERSION, INR_INCLUDE_DIRS, INR_LIBRARIES (= INR::inr), INR_LIBRARY_DIR,
#   INR_SHARED_LIBRARY, INR_STATIC_LIBRARY, INR_SONAME ("" when none)
#   INR_SOURCE_DIR        the repository (source-tree package only)

get_filename_component(_INR_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}" ABSOLUTE)
get_filename_component(INR_SOURCE_DIR "${_INR_CMAKE_DIR}/.." ABSOLUTE)
include("${_INR_CMAKE_DIR}/INRHelpers.cmake")

if(NOT EXISTS "${INR_SOURCE_DIR}/Cargo.toml" OR NOT EXISTS "${INR_SOURCE_DIR}/include/inr.h")
  set(INR_FOUND FALSE)
  set(INR_NOT_FOUND_MESSAGE "${INR_SOURCE_DIR} is not the inr source tree (no Cargo.toml or include/inr.h)")
  return()
endif()
inr_read_cargo_version("${INR_SOURCE_DIR}/Cargo.toml" INR_VERSION)

# cargo
find_program(INR_CARGO NAMES cargo
  HINTS "$ENV{CARGO_HOME}/bin" "$ENV{HOME}/.cargo/bin"
  DOC "cargo, to build libinr")
if(NOT INR_CARGO)
  set(INR_FOUND FALSE)
  set(INR_NOT_FOUND_MESSAGE "cargo not found (set INR_CARGO): building libinr from source needs a Rust toolchain")
  return()
endif()
set(INR_CARGO_ARGS "" CACHE STRING "Extra arguments for `cargo build` of libinr, space-separated")

# cargo's target directory: asked once, then fixed in the cache.
if(NOT INR_CARGO_TARGET_DIR)
  set(_inr_target_dir "")
  execute_process(
    COMMAND "${INR_CARGO}" metadata --format-version 1 --no-deps --offline
    WORKING_DIRECTORY "${INR_SOURCE_DIR}"
    OUTPUT_VARIABLE _inr_metadata ERROR_QUIET RESULT_VARIABLE _inr_rv)
  if(_inr_rv EQUAL 0 AND _inr_metadata MATCHES "\"target_directory\":\"([^\"]+)\"")
    set(_inr_target_dir "${CMAKE_MATCH_1}")
  elseif(DEFINED ENV{CARGO_TARGET_DIR} AND NOT "$ENV{CARGO_TARGET_DIR}" STREQUAL "")
    get_filename_component(_inr_target_dir "$ENV{CARGO_TARGET_DIR}" ABSOLUTE BASE_DIR "${INR_SOURCE_DIR}")
  else()
    set(_inr_target_dir "${INR_SOURCE_DIR}/target")
  endif()
  set(INR_CARGO_TARGET_DIR "${_inr_target_dir}" CACHE PATH "cargo's target directory for libinr" FORCE)
endif()

set(INR_LIBRARY_DIR "${INR_CARGO_TARGET_DIR}/release")
set(INR_SHARED_LIBRARY "${INR_LIBRARY_DIR}/libinr.so")
set(INR_STATIC_LIBRARY "${INR_LIBRARY_DIR}/libinr.a")
set(INR_INCLUDE_DIRS "${INR_SOURCE_DIR}/include")
set(INR_LIBRARIES INR::inr)

set(_inr_build_command "${CMAKE_COMMAND}"
  "-DINR_SOURCE_DIR=${INR_SOURCE_DIR}"
  "-DINR_CARGO=${INR_CARGO}"
  "-DINR_CARGO_TARGET_DIR=${INR_CARGO_TARGET_DIR}"
  "-DINR_CARGO_ARGS=${INR_CARGO_ARGS}"
  -P "${_INR_CMAKE_DIR}/INRCargoBuild.cmake")

if(NOT TARGET INR::inr)
  # Build now if the library is missing, so that the imported targets' files
  # exist; if it is there, the build step (inr_cargo_build) brings it up to
  # date before anything links with it.
  if(NOT EXISTS "${INR_SHARED_LIBRARY}" OR NOT EXISTS "${INR_STATIC_LIBRARY}")
    message(STATUS "INR: building libinr ${INR_VERSION} with cargo in ${INR_CARGO_TARGET_DIR}")
    # CMake's compiler detection puts CC and CXX in the environment of the
    # first configure; cargo must not see them, or the C parts of the Rust
    # dependencies (zstd) are rebuilt whenever a plain `cargo build` follows.
    set(_inr_unset "")
    foreach(_inr_lang_var C:CC CXX:CXX)
      string(REPLACE ":" ";" _inr_pair "${_inr_lang_var}")
      list(GET _inr_pair 0 _inr_lang)
      list(GET _inr_pair 1 _inr_env)
      if(DEFINED ENV{${_inr_env}} AND "$ENV{${_inr_env}}" STREQUAL "${CMAKE_${_inr_lang}_COMPILER}")
        list(APPEND _inr_unset "--unset=${_inr_env}")
      endif()
    endforeach()
    execute_process(COMMAND "${CMAKE_COMMAND}" -E env ${_inr_unset} ${_inr_build_command}
      RESULT_VARIABLE _inr_rv)
    if(NOT _inr_rv EQUAL 0)
      set(INR_FOUND FALSE)
      set(INR_NOT_FOUND_MESSAGE "building libinr with cargo failed (see the output above)")
      return()
    endif()
  endif()

  if(NOT TARGET inr_cargo_build)
    add_custom_target(inr_cargo_build ALL
      COMMAND ${_inr_build_command}
      BYPRODUCTS "${INR_SHARED_LIBRARY}" "${INR_STATIC_LIBRARY}"
      WORKING_DIRECTORY "${INR_SOURCE_DIR}"
      COMMENT "Building libinr with cargo"
      USES_TERMINAL
      VERBATIM)
  endif()

  # GLOBAL: the targets are visible in every directory of the project, so the
  # usual `if(NOT TARGET INR::inr) find_package(INR) endif()` guard works
  # anywhere, and the cargo build is defined once.
  add_library(INR::inr SHARED IMPORTED GLOBAL)
  set_target_properties(INR::inr PROPERTIES
    IMPORTED_LOCATION "${INR_SHARED_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${INR_INCLUDE_DIRS}")
  add_dependencies(INR::inr inr_cargo_build)

  add_library(INR::inr_static STATIC IMPORTED GLOBAL)
  set_target_properties(INR::inr_static PROPERTIES
    IMPORTED_LOCATION "${INR_STATIC_LIBRARY}"
    IMPORTED_LINK_INTERFACE_LANGUAGES "C"
    INTERFACE_INCLUDE_DIRECTORIES "${INR_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${INR_STATIC_SYSTEM_LIBS}")
  add_dependencies(INR::inr_static inr_cargo_build)

  # cargo's cdylib has no SONAME unless the crate asks for one. Without one,
  # linking by full path would record that absolute path in the programs
  # (DT_NEEDED); IMPORTED_NO_SONAME makes CMake link with -L<dir> -linr
  # instead. (INRCargoBuild.cmake links a versioned SONAME such as
  # libinr.so.1 to libinr.so, so either way programs find the library.)
  inr_read_soname("${INR_SHARED_LIBRARY}" _inr_soname)
  if(_inr_soname)
    set_target_properties(INR::inr PROPERTIES IMPORTED_SONAME "${_inr_soname}")
  else()
    set_target_properties(INR::inr PROPERTIES IMPORTED_NO_SONAME TRUE)
  endif()
endif()
inr_read_soname("${INR_SHARED_LIBRARY}" INR_SONAME)

set(INR_FOUND TRUE)
if(NOT INR_FIND_QUIETLY)
  message(STATUS "INR: ${INR_SHARED_LIBRARY} (version ${INR_VERSION}, source tree ${INR_SOURCE_DIR})")
endif()
