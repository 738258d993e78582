"""The program layer: the stack assembler, the Platform component and the component provider."""
