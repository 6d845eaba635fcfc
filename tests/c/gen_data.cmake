# Makes the test data of the C API tests with the `inr` command line tool
# (script mode):
#
#   cmake -DINR_CLI=<path of inr> -DOUT_DIR=<dir> -P gen_data.cmake
#
# For each file NAME (img: image data with 3 time steps; tets and hexes:
# unstructured meshes) it writes
#   NAME.inr     `inr synthetic ...` (deterministic: fixed seeds)
#   NAME.expect  what `inr info --json` (and `inr info`) say about it, one
#                fact per line: `key value...`, numbers as JSON wrote them
#   NAME.probe   `probe x y z t v...` lines: `inr probe` at a few points
#                (t = nan: no time given), all variables' components
# and version.expect (`inr --version`). The test programs read these files
# and compare the C API's answers with the CLI's.
cmake_minimum_required(VERSION 3.19) # string(JSON)

foreach(_var INR_CLI OUT_DIR)
  if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
    message(FATAL_ERROR "gen_data.cmake: ${_var} is not set")
  endif()
endforeach()
if(NOT EXISTS "${INR_CLI}")
  message(FATAL_ERROR "gen_data.cmake: the inr command line tool ${INR_CLI} does not exist "
    "(build it with `cargo build --release --bin inr`, or set INR_CLI)")
endif()
file(MAKE_DIRECTORY "${OUT_DIR}")

# inr(<out-var> args...): runs `inr args...`, fails the build on an error.
function(inr out_var)
  execute_process(COMMAND "${INR_CLI}" ${ARGN}
    WORKING_DIRECTORY "${OUT_DIR}"
    OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rv)
  if(NOT _rv EQUAL 0)
    message(FATAL_ERROR "gen_data.cmake: `inr ${ARGN}` failed (${_rv}): ${_err}")
  endif()
  set(${out_var} "${_out}" PARENT_SCOPE)
endfunction()

# json_list(<out-var> <json> path...): the elements of a JSON array, as a
# space-separated string.
function(json_list out_var json)
  string(JSON _n LENGTH "${json}" ${ARGN})
  set(_items "")
  if(_n GREATER 0)
    math(EXPR _last "${_n} - 1")
    foreach(_i RANGE ${_last})
      string(JSON _v GET "${json}" ${ARGN} ${_i})
      string(APPEND _items " ${_v}")
    endforeach()
  endif()
  string(STRIP "${_items}" _items)
  set(${out_var} "${_items}" PARENT_SCOPE)
endfunction()

# describe(<name>): NAME.expect from `inr info --json NAME.inr`.
function(describe name)
  set(_file "${OUT_DIR}/${name}.inr")
  inr(_json info --json "${_file}")
  inr(_text info "${_file}")
  set(_e "")
  string(JSON _kind GET "${_json}" domain kind)
  string(APPEND _e "domain ${_kind}\n")
  if(_kind STREQUAL "image")
    foreach(_key dims origin spacing)
      json_list(_v "${_json}" domain ${_key})
      string(APPEND _e "${_key} ${_v}\n")
    endforeach()
  elseif(_kind STREQUAL "unstructured")
    foreach(_key num_points num_cells)
      string(JSON _v GET "${_json}" domain ${_key})
      string(APPEND _e "${_key} ${_v}\n")
    endforeach()
    json_list(_v "${_json}" domain bounds)
    string(APPEND _e "bounds ${_v}\n")
  endif()
  string(JSON _time ERROR_VARIABLE _no_time GET "${_json}" time)
  if(_no_time)
    string(APPEND _e "times 0\n")
  else()
    string(JSON _nt LENGTH "${_json}" time values)
    json_list(_v "${_json}" time values)
    string(APPEND _e "times ${_nt} ${_v}\n")
  endif()
  string(JSON _nv LENGTH "${_json}" variables)
  string(APPEND _e "variables ${_nv}\n")
  math(EXPR _last "${_nv} - 1")
  foreach(_i RANGE ${_last})
    string(JSON _vname GET "${_json}" variables ${_i} name)
    string(JSON _comp GET "${_json}" variables ${_i} components)
    string(JSON _assoc GET "${_json}" variables ${_i} association)
    string(JSON _units ERROR_VARIABLE _no_units GET "${_json}" variables ${_i} units)
    if(_no_units OR _units STREQUAL "" OR _units STREQUAL "null")
      set(_units "-")
    endif()
    set(_ranges "")
    math(EXPR _clast "${_comp} - 1")
    foreach(_c RANGE ${_clast})
      json_list(_r "${_json}" variables ${_i} range ${_c})
      string(APPEND _ranges " ${_r}")
    endforeach()
    string(APPEND _e "var ${_vname} ${_comp} ${_assoc} ${_units}${_ranges}\n")
  endforeach()
  string(JSON _family GET "${_json}" model family)
  string(APPEND _e "family ${_family}\n")
  string(JSON _ns LENGTH "${_json}" sections)
  math(EXPR _last "${_ns} - 1")
  foreach(_i RANGE ${_last})
    string(JSON _sname GET "${_json}" sections ${_i} name)
    string(JSON _off GET "${_json}" sections ${_i} offset)
    string(JSON _len GET "${_json}" sections ${_i} stored_length)
    string(APPEND _e "section ${_sname} ${_off} ${_len}\n")
  endforeach()
  # Not in the JSON: the parameter count of the summary's model line.
  if(NOT _text MATCHES "; ([0-9]+) parameters")
    message(FATAL_ERROR "gen_data.cmake: no parameter count in `inr info ${_file}`:\n${_text}")
  endif()
  string(APPEND _e "parameters ${CMAKE_MATCH_1}\n")
  file(SIZE "${_file}" _size)
  string(APPEND _e "file_size ${_size}\n")
  file(WRITE "${OUT_DIR}/${name}.expect" "${_e}")
endfunction()

# probe(<name> points...): NAME.probe; each point is "x,y,z" or "x,y,z,t".
function(probe name)
  set(_p "")
  foreach(_point ${ARGN})
    string(REPLACE "," ";" _args "${_point}")
    list(LENGTH _args _n)
    set(_t nan)
    if(_n EQUAL 4)
      list(GET _args 3 _t)
    endif()
    list(SUBLIST _args 0 3 _xyz)
    inr(_out probe "${OUT_DIR}/${name}.inr" ${_args})
    # "name = v" or "name = (v1, v2, v3)", one line per variable
    string(REGEX REPLACE "[^\n=]+= *" "" _values "${_out}")
    string(REGEX REPLACE "[(),\n]" " " _values "${_values}")
    string(REGEX REPLACE "  +" " " _values "${_values}")
    string(STRIP "${_values}" _values)
    string(REPLACE ";" " " _xyz "${_xyz}")
    string(APPEND _p "probe ${_xyz} ${_t} ${_values}\n")
  endforeach()
  file(WRITE "${OUT_DIR}/${name}.probe" "${_p}")
endfunction()

inr(_version --version)
string(STRIP "${_version}" _version)
file(WRITE "${OUT_DIR}/version.expect" "${_version}\n")

inr(_ synthetic -o img.inr --seed 7)
inr(_ synthetic -o tets.inr --seed 3 --mesh tets --mesh-cells 4,3,2)
inr(_ synthetic -o hexes.inr --seed 5 --mesh hexes --mesh-cells 3,2,2)
# The same domains with clustered (MC-INR) models, blended across borders.
inr(_ synthetic -o mcimg.inr --seed 8 --clusters 3 --splits 1 --blend-width 2)
inr(_ synthetic -o mctets.inr --seed 9 --mesh tets --mesh-cells 4,3,2 --clusters 4 --splits 2 --blend-width 0.3)
# A multiscale (ECNR) model of 3 scales on the image domain (point variables).
inr(_ synthetic -o ecnr.inr --seed 10 --ecnr 3)
# An STSR-INR model (variables as latent vectors, 3 x 2 x 1 heads).
inr(_ synthetic -o stsr.inr --seed 11 --stsr --width 12)
# A NeRVI model of rendered images (24 x 16 pixels, theta and phi, 3 steps).
inr(_ synthetic -o views.inr --seed 12 --nervi --width 8)
foreach(_name img tets hexes mcimg mctets ecnr stsr)
  describe(${_name})
endforeach()

# Inside the domain at stored and in-between times, without a time, outside
# the time range (clamped), at a grid point, and outside the domain.
probe(img "0.1,1.2,15,0.5" "0.1,1.2,15,1.25" "2.75,3.5,26" "-1,0.5,12,-3"
  "3.5,4.75,38,7" "-1.5,0.25,10,0" "20,-3,50,2")
probe(tets "0,0.25,2.5,0.5" "-1,0,2" "0.3,0.1,2.9,9" "1.5,0.7,3.5,1")
probe(hexes "0,0.25,2.5,0.5" "-1,0,2" "0.3,0.1,2.9,-9")
probe(mcimg "0.1,1.2,15,0.5" "2.75,3.5,26" "-1,0.5,12,-3" "20,-3,50,2")
probe(mctets "0,0.25,2.5,0.5" "-1,0,2" "0.3,0.1,2.9,9")
probe(ecnr "0.1,1.2,15,0.5" "0.1,1.2,15,1.25" "2.75,3.5,26" "-1,0.5,12,-3"
  "-1.5,0.25,10,0" "20,-3,50,2")
probe(stsr "0.1,1.2,15,0.5" "0.1,1.2,15,1.25" "2.75,3.5,26" "-1,0.5,12,-3"
  "-1.5,0.25,10,0" "20,-3,50,2")
