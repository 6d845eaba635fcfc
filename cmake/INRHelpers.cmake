# Helpers shared by the INR CMake files (source-tree package, top-level
# project, build and install scripts). Works in project and script (-P) mode,
# and may be included more than once.

# The system libraries a program linking the Rust static library libinr.a
# also needs: what `cargo rustc --lib --crate-type staticlib -- --print
# native-static-libs` prints on Linux, minus libc (-lgcc_s -lutil -lrt
# -lpthread -lm -ldl -lc).
if(CMAKE_SYSTEM_NAME STREQUAL "Linux" OR (NOT CMAKE_SYSTEM_NAME AND CMAKE_HOST_SYSTEM_NAME STREQUAL "Linux"))
  set(INR_STATIC_SYSTEM_LIBS gcc_s util rt pthread m dl)
else()
  set(INR_STATIC_SYSTEM_LIBS pthread m dl)
endif()

# inr_read_cargo_version(<Cargo.toml> <out-var>): the `version` of the
# [workspace.package] (or [package]) section, e.g. "0.1.0".
function(inr_read_cargo_version cargo_toml out_var)
  if(NOT EXISTS "${cargo_toml}")
    message(FATAL_ERROR "INR: ${cargo_toml} does not exist")
  endif()
  file(STRINGS "${cargo_toml}" _lines)
  set(_section "")
  foreach(_line IN LISTS _lines)
    if(_line MATCHES "^[ \t]*\\[+([A-Za-z0-9_.\"-]+)\\]+")
      set(_section "${CMAKE_MATCH_1}")
    elseif((_section STREQUAL "package" OR _section STREQUAL "workspace.package")
           AND _line MATCHES "^[ \t]*version[ \t]*=[ \t]*[\"']([^\"']+)[\"']")
      set(${out_var} "${CMAKE_MATCH_1}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "INR: no version = \"...\" in the [workspace.package] or [package] section of ${cargo_toml}")
endfunction()

# inr_read_soname(<shared library> <out-var>): the library's ELF SONAME, or
# "" when it has none (or when neither readelf nor objdump is available).
function(inr_read_soname library out_var)
  set(_soname "")
  if(CMAKE_READELF)
    set(_readelf "${CMAKE_READELF}")
  else()
    find_program(INR_READELF_EXECUTABLE NAMES readelf llvm-readelf)
    mark_as_advanced(INR_READELF_EXECUTABLE)
    set(_readelf "${INR_READELF_EXECUTABLE}")
  endif()
  if(_readelf)
    execute_process(COMMAND "${_readelf}" -d "${library}"
      OUTPUT_VARIABLE _out ERROR_QUIET RESULT_VARIABLE _rv)
    if(_rv EQUAL 0 AND _out MATCHES "Library soname: \\[([^] \t\r\n]+)\\]")
      set(_soname "${CMAKE_MATCH_1}")
    endif()
  else()
    find_program(INR_OBJDUMP_EXECUTABLE NAMES objdump llvm-objdump)
    mark_as_advanced(INR_OBJDUMP_EXECUTABLE)
    if(INR_OBJDUMP_EXECUTABLE)
      execute_process(COMMAND "${INR_OBJDUMP_EXECUTABLE}" -p "${library}"
        OUTPUT_VARIABLE _out ERROR_QUIET RESULT_VARIABLE _rv)
      if(_rv EQUAL 0 AND _out MATCHES "SONAME[ \t]+([^ \t\r\n]+)")
        set(_soname "${CMAKE_MATCH_1}")
      endif()
    endif()
  endif()
  set(${out_var} "${_soname}" PARENT_SCOPE)
endfunction()
