# Writes the text file IN as a C string constant NAME into OUT (cmake -P): star export
# builds its PyTorch module template (cli/export_model.py) into the binary this way.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "// Generated from ${IN} by cli/embed_text.cmake; do not edit.\nconst char ${NAME}[] = {${bytes} 0x00};\n")
