"""Enough of ARM's template language to lint imageTemplates inside ARM (and `az bicep build`) output.

Evaluates parameters() with defaults, variables(), concat(), format() and literals; anything else
(resourceGroup().location, reference(), a parameter without a default) stays unresolved and is named.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+)|(?P<name>[A-Za-z_][\w]*)|(?P<punct>[(),.\[\]]))")


class Unresolved(Exception):
    pass


class ArmEvaluator:
    def __init__(self, document: dict) -> None:
        self.parameters = document.get("parameters") or {}
        self.variables = document.get("variables") or {}
        self.unresolved: set[str] = set()

    def resolve(self, value):
        """The value with every expression string evaluated where possible (unresolvable ones kept as written)."""
        if isinstance(value, dict):  # keys too: userAssignedIdentities is keyed by expressions
            return {self._key(k): self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[["):
            try:
                return self.resolve(self._expression(value[1:-1]))
            except Unresolved as exc:
                self.unresolved.add(str(exc))
                return value
        return value

    def _key(self, key: str) -> str:
        resolved = self.resolve(key)
        return resolved if isinstance(resolved, str) else key

    def _expression(self, text: str):
        tokens = [(m.lastgroup, m.group(m.lastgroup)) for m in _TOKEN.finditer(text) if m.lastgroup]
        result, rest = self._call(tokens)
        if rest:
            raise Unresolved(text)
        return result

    def _call(self, tokens):
        kind, token = tokens[0]
        if kind == "string":
            return token[1:-1].replace("''", "'"), tokens[1:]
        if kind == "number":
            return int(token), tokens[1:]
        if kind != "name" or len(tokens) < 2 or tokens[1][1] != "(":
            raise Unresolved(token)
        args, rest = [], tokens[2:]
        while rest and rest[0][1] != ")":
            arg, rest = self._call(rest)
            args.append(arg)
            if rest and rest[0][1] == ",":
                rest = rest[1:]
        rest = rest[1:]
        value = self._apply(token, args)
        while rest and rest[0][1] == ".":  # property access: parameters('x').y
            if not isinstance(value, dict):
                raise Unresolved(f"{token}().{rest[1][1]}")
            value, rest = value.get(rest[1][1]), rest[2:]
        return value, rest

    def _apply(self, name: str, args: list):
        function = name.lower()
        if function == "parameters":
            spec = self.parameters.get(args[0]) or {}
            if "defaultValue" not in spec:
                raise Unresolved(f"parameters('{args[0]}')")
            return self.resolve(spec["defaultValue"])
        if function == "variables":
            if args[0] not in self.variables:
                raise Unresolved(f"variables('{args[0]}')")
            return self.resolve(self.variables[args[0]])
        if function == "concat":
            if all(isinstance(a, list) for a in args):
                return [item for a in args for item in a]
            return "".join(str(a) for a in args)
        if function == "format":
            return re.sub(r"\{(\d+)\}", lambda m: str(args[1 + int(m.group(1))]), str(args[0]))
        if function in ("string", "tolower", "toupper"):
            return {"string": str, "tolower": lambda v: str(v).lower(), "toupper": lambda v: str(v).upper()}[function](args[0])
        raise Unresolved(f"{name}()")
