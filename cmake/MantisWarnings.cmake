include_guard(GLOBAL)
# Warning flags for mantis's own targets only: consumers never inherit them.
function(mantis_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual)
  if(MANTIS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
