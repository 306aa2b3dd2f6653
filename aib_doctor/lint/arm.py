"""Enough of ARM's template language to lint imageTemplates inside ARM (and `az bicep build`) output.

Evaluates parameters() with defaults, variables(), concat(), format() and literals; anything else
(resourceGroup().location, reference(), a parameter without a default) stays unresolved and is named.
"""

from __future__ import annotations

import re

from aib_doctor.errors import InputError

_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+)|(?P<name>[A-Za-z_][\w]*)|(?P<punct>[(),.\[\]]))")


class Unresolved(Exception):
    pass


class ArmEvaluator:
    def __init__(self, document: dict) -> None:
        parameters, variables = document.get("parameters"), document.get("variables")
        self.parameters = parameters if isinstance(parameters, dict) else {}
        self.variables = variables if isinstance(variables, dict) else {}
        self.unresolved: set[str] = set()
        self._evaluating: list[str] = []
        """parameters('x') and variables('y') being evaluated: meeting one again is a cycle, not recursion."""

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

    def _evaluate(self, reference: str, value):
        if reference in self._evaluating:
            chain = " -> ".join([*self._evaluating[self._evaluating.index(reference) :], reference])
            raise InputError(f"the ARM template's {reference} refers to itself ({chain}); give it a value that does not")
        self._evaluating.append(reference)
        try:
            return self.resolve(value)
        finally:
            self._evaluating.pop()

    def _key(self, key: str) -> str:
        resolved = self.resolve(key)
        return resolved if isinstance(resolved, str) else key

    def _expression(self, text: str):
        tokens = [(m.lastgroup, m.group(m.lastgroup)) for m in _TOKEN.finditer(text) if m.lastgroup]
        try:
            result, rest = self._call(tokens)
        except (IndexError, ValueError, TypeError):  # a malformed expression (unbalanced, format('{3}') short of args): the user's
            raise Unresolved(text) from None
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
        if function in ("parameters", "variables"):
            table = self.parameters if function == "parameters" else self.variables
            spec = table.get(args[0]) if args and isinstance(args[0], str) else None
            value = (spec.get("defaultValue", Unresolved) if isinstance(spec, dict) else Unresolved) if function == "parameters" else spec
            if value is Unresolved or (function == "variables" and args[0] not in table):
                raise Unresolved(f"{function}('{args[0] if args else ''}')")
            return self._evaluate(f"{function}('{args[0]}')", value)
        if function == "concat":
            if all(isinstance(a, list) for a in args):
                return [item for a in args for item in a]
            return "".join(str(a) for a in args)
        if function == "format":
            return re.sub(r"\{(\d+)\}", lambda m: str(args[1 + int(m.group(1))]), str(args[0]))
        if function in ("string", "tolower", "toupper"):
            return {"string": str, "tolower": lambda v: str(v).lower(), "toupper": lambda v: str(v).upper()}[function](args[0])
        raise Unresolved(f"{name}()")
