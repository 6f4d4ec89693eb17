# Fails unless LIBRARY's dynamic symbol table is exactly a public API:
#   KIND=c    (libmantis_c): every defined dynamic symbol is a mantis_* function, and there are many.
#   KIND=cxx  (libmantis):   every defined C++ symbol demangles to a name in namespace mantis (a function,
#                            or the typeinfo or vtable of a class) outside mantis::detail, every other
#                            symbol is a mantis_* one, and the entry points of the API are there.
#   cmake -DNM=<nm> -DLIBRARY=<path> -DKIND=c|cxx -P check_exports.cmake
# Used by ctest (tests/CMakeLists.txt, tests/c/CMakeLists.txt) and on the installed libraries by
# tests/consumer/run.sh.
if(NOT KIND MATCHES "^(c|cxx)$")
  message(FATAL_ERROR "check_exports.cmake: KIND must be c or cxx, not '${KIND}'")
endif()

# The same table twice, in symbol-table order (no sorting), raw and demangled: line i of one is line i
# of the other.
function(_mantis_dynamic_symbols out)
  execute_process(COMMAND "${NM}" -D --defined-only --no-sort ${ARGN} "${LIBRARY}"
                  OUTPUT_VARIABLE _symbols RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${LIBRARY}")
  endif()
  string(REGEX REPLACE "\n$" "" _symbols "${_symbols}")
  # nm prints "<address> <type> <name>"; the demangled names may hold spaces and semicolons.
  string(REPLACE ";" "\\;" _symbols "${_symbols}")
  string(REPLACE "\n" ";" _lines "${_symbols}")
  set(_names "")
  foreach(_line IN LISTS _lines)
    string(REGEX REPLACE "^[0-9a-fA-F]* *[A-Za-z] " "" _name "${_line}")
    string(REPLACE ";" "\\;" _name "${_name}")
    list(APPEND _names "${_name}")
  endforeach()
  set(${out} "${_names}" PARENT_SCOPE)
endfunction()

_mantis_dynamic_symbols(_raw)
list(LENGTH _raw _count)
get_filename_component(_library_name "${LIBRARY}" NAME)

if(KIND STREQUAL "c")
  foreach(_name IN LISTS _raw)
    if(NOT _name MATCHES "^mantis_")
      message(FATAL_ERROR "${_library_name} exports a symbol outside the C API: '${_name}'")
    endif()
  endforeach()
  if(_count LESS 80)
    message(FATAL_ERROR "${_library_name} exports only ${_count} mantis_* symbols; expected the whole C API")
  endif()
  message(STATUS "${_library_name} exports ${_count} symbols, all mantis_*")
  return()
endif()

_mantis_dynamic_symbols(_demangled -C)
list(LENGTH _demangled _demangled_count)
if(NOT _count EQUAL _demangled_count)
  message(FATAL_ERROR "${NM} listed ${_count} symbols raw but ${_demangled_count} demangled")
endif()
set(_cxx 0)
set(_all_demangled "")
math(EXPR _last "${_count} - 1")
foreach(_i RANGE ${_last})
  list(GET _raw ${_i} _name)
  list(GET _demangled ${_i} _pretty)
  if(_name MATCHES "^_Z")
    # The symbol's own name decides (its parameters may name detail types, e.g. a private member's).
    if(NOT _pretty MATCHES "^((typeinfo|typeinfo name|vtable) for )?mantis::" OR
       _pretty MATCHES "^((typeinfo|typeinfo name|vtable) for )?mantis::detail::")
      message(FATAL_ERROR "${_library_name} exports a C++ symbol outside the public API: '${_pretty}' (${_name})")
    endif()
    math(EXPR _cxx "${_cxx} + 1")
    string(APPEND _all_demangled "${_pretty}\n")
  elseif(NOT _name MATCHES "^mantis_")
    message(FATAL_ERROR "${_library_name} exports a symbol outside the public API: '${_name}'")
  endif()
endforeach()
# The API is really exported (not an empty table): a few entry points, a vtable and a typeinfo.
foreach(_required IN ITEMS "mantis::Engine::open(" "mantis::Cache::open(" "mantis::Status::to_string"
                           "mantis::WriteBatch::put(" "mantis::Stats::to_json" "typeinfo for mantis::Iterator")
  string(FIND "${_all_demangled}" "${_required}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "${_library_name} does not export ${_required}...")
  endif()
endforeach()
message(STATUS "${_library_name} exports ${_count} symbols, ${_cxx} of them C++, all in the public API")
