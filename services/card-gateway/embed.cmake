# Turns each Lua script into a C string in lua_scripts.h, so the gateway,
# the load generator and the tests run the very same source.
file(GLOB SCRIPTS ${LUA_DIR}/*.lua)
file(WRITE ${OUT} "/* generated from services/card-gateway/lua: do not edit */\n")
foreach(f ${SCRIPTS})
  get_filename_component(name ${f} NAME_WE)
  file(READ ${f} src)
  string(REPLACE "\\" "\\\\" src "${src}")
  string(REPLACE "\"" "\\\"" src "${src}")
  string(REPLACE "\n" "\\n\"\n\"" src "${src}")
  file(APPEND ${OUT} "static const char lua_${name}[] =\n\"${src}\";\n")
endforeach()
