# Fails the configure step if mantis::mantis would hand its warning flags or -Werror to a consumer.
get_target_property(_mantis_interface_options mantis::mantis INTERFACE_COMPILE_OPTIONS)
if(_mantis_interface_options)
  foreach(_option IN LISTS _mantis_interface_options)
    if(_option MATCHES "^-W")
      message(FATAL_ERROR "mantis::mantis propagates the compile option '${_option}' to its consumers")
    endif()
  endforeach()
endif()
