"""Import code and unpickle objects from a torch.package archive, isolated per package.

Follows the semantics of torch.package.PackageImporter (PyTorch 1.13): interned
modules are created from the archive's sources into this importer's own module
table (never sys.modules), so two packages may each have a module `utils`;
extern modules (listed in .data/extern_modules) come from the interpreter's normal
import system; module names are mangled as `<torch_package_N>.name` so objects from
different packages never collide; packaged code reaches its importer with
`import torch_package_importer`.

The archive arrives as a dict {path relative to the zip root: bytes} holding every
entry but tensor storages, which the host keeps (the engine owns them).

Compiled code is shared between the interpreters serving one package: the first to load it
compiles every source before any of the package's code runs (compile_all) and hands the host
the marshalled code objects; the others load those instead of compiling (code=...). Compiling
resnet18's 275 KB of torchvision sources took most of an additional interpreter's 150 ms.
"""

import builtins
import importlib
import importlib.machinery
import io
import linecache
import marshal
import pickle
import types
from importlib.resources.abc import Traversable

# Imports that real torch.package allows even when not declared extern.
IMPLICIT_IMPORT_ALLOWLIST = ("numpy", "numpy.core", "numpy.core._multiarray_umath", "builtins")

_mangle_counter = 0


def _next_mangle_prefix():
    global _mangle_counter
    prefix = f"<torch_package_{_mangle_counter}>"
    _mangle_counter += 1
    return prefix


def demangle(name):
    """'<torch_package_3>.a.b' -> 'a.b'; other names unchanged."""
    if name.startswith("<torch_package_"):
        head, sep, rest = name.partition(".")
        return rest if sep else ""
    return name


def _no_storage_loader(importer, saved_id):
    raise NotImplementedError(
        f"pickle in {importer.label} refers to a tensor storage ({saved_id[1]!r}); "
        "this interpreter has no tensor engine attached"
    )


# Replaced by the tensor layer: called as storage_loader(importer, saved_id_tuple).
storage_loader = _no_storage_loader


class _Extern:
    __slots__ = ()


class _Module:
    __slots__ = ("source_file",)

    def __init__(self, source_file):
        self.source_file = source_file


class _Package:
    __slots__ = ("source_file", "children")

    def __init__(self, source_file=None):
        self.source_file = source_file
        self.children = {}


def _refile(code, filename):
    """`code` and the code objects nested in it, reporting `filename` (tracebacks, linecache)."""
    consts = tuple(_refile(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


class PackageImporter:
    def __init__(self, files, label, code=None, code_prefix=None):
        self.files = files
        self.label = label
        self.prefix = _next_mangle_prefix()
        # {source path: code object} compiled here, and {source path: marshalled code} compiled
        # by another interpreter of this package (under code_prefix); each used once, then dropped.
        self._compiled = {}
        self._marshalled = code or {}
        self._marshalled_prefix = code_prefix
        version = files.get(".data/python_version")
        self._python_version = version.decode().strip() if version is not None else None
        extern = files.get(".data/extern_modules", b"").decode()
        self.extern_modules = [line for line in extern.splitlines() if line.strip()]
        self.modules = {"torch_package_importer": self}
        self.root = _Package()
        for path in files:
            self._add_file(path)
        for name in self.extern_modules:
            self._add_extern(name)
        self.patched_builtins = dict(builtins.__dict__)
        self.patched_builtins["__import__"] = self.__import__
        self._replicated = {}

    def compile_all(self):
        """Compile every source now; {path: marshalled code} for the other interpreters.

        Runs before any of the package's code, so what it hands out is the compiler's alone.
        A source that does not compile is left out: importing it raises as it would have.
        This interpreter then runs the code as the others will, loaded from those bytes: the
        process's first run of marshal's reader (compiled by V8 on first use, and shared by
        every interpreter) is then here, not in the next interpreter's ready time (resnet18:
        that interpreter's unpickling went from 42-56 to 29-37 ms)."""
        out = {}
        for path in self.files:
            if not path.endswith(".py") or path.startswith(".data/") or not self._is_module_file(path):
                continue
            try:
                code = compile(self._source(path), f"{self.prefix}.{path}", "exec", dont_inherit=True)
            except (SyntaxError, ValueError, UnicodeDecodeError):
                continue
            out[path] = marshal.dumps(code)
            self._compiled[path] = marshal.loads(out[path])
        return out

    def _is_module_file(self, path):
        *prefix, last = path.split("/")
        cur = self.root
        for atom in prefix:
            cur = cur.children.get(atom) if isinstance(cur, _Package) else None
            if cur is None:
                return False
        if not isinstance(cur, _Package):
            return False
        return cur.source_file == path if last == "__init__.py" else isinstance(cur.children.get(last[:-3]), _Module)

    def _source(self, filename):
        return self.files[filename].decode("utf-8").replace("\r\n", "\n")

    def _code(self, filename, mangled_file, source):
        code = self._compiled.pop(filename, None)
        if code is not None:
            return code
        data = self._marshalled.pop(filename, None)
        if data is not None:
            code = marshal.loads(data)
            if self._marshalled_prefix != self.prefix:
                code = _refile(code, mangled_file)
            return code
        return compile(source, mangled_file, "exec", dont_inherit=True)

    # ----- torch.package's public API -----
    def id(self):
        return self.prefix

    def python_version(self):
        return self._python_version

    def import_module(self, name, package=None):
        return self._gcd_import(demangle(name))

    def load_binary(self, package, resource):
        return self._record(package, resource)

    def load_text(self, package, resource, encoding="utf-8", errors="strict"):
        return self._record(package, resource).decode(encoding, errors)

    def load_pickle(self, package, resource, map_location=None):
        data = self._record(package, resource)
        loaded_reduces = {}

        importer = self

        class _Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if module == "__builtin__":
                    module = "builtins"
                obj = importer.import_module(module)
                for part in name.split("."):
                    obj = getattr(obj, part)
                return obj

            def persistent_load(self, saved_id):
                typename = saved_id[0]
                if typename == "storage":
                    return storage_loader(importer, saved_id)
                if typename == "reduce_package":
                    rest = saved_id[1:]
                    if len(rest) == 2:
                        func, args = rest
                        return func(importer, *args)
                    reduce_id, func, args = rest
                    if reduce_id not in loaded_reduces:
                        loaded_reduces[reduce_id] = func(importer, *args)
                    return loaded_reduces[reduce_id]
                raise pickle.UnpicklingError(f"unknown persistent id type {typename!r} in {package}/{resource}")

        return _Unpickler(io.BytesIO(data)).load()

    def get_source(self, module_name):
        module = self.import_module(demangle(module_name))
        return self.files[demangle(module.__file__)].decode("utf-8")

    def get_resource_reader(self, fullname):
        return _ResourceReader(self, demangle(fullname))

    # ----- archive tree -----
    def _record(self, package, resource):
        path = self._zip_path(package, resource)
        try:
            return self.files[path]
        except KeyError:
            raise FileNotFoundError(f"no resource {path!r} in {self.label}") from None

    @staticmethod
    def _zip_path(package, resource):
        return "/".join(package.split(".") + [resource]) if package else resource

    def _package_node(self, atoms):
        cur = self.root
        for i, atom in enumerate(atoms):
            node = cur.children.get(atom)
            if node is None:
                node = cur.children[atom] = _Package()
            if isinstance(node, _Extern):
                return node
            if isinstance(node, _Module):
                raise ImportError(
                    f"{self.label}: inconsistent module structure; module {'.'.join(atoms[:i + 1])} "
                    "is both a module and a package"
                )
            cur = node
        return cur

    def _add_file(self, path):
        *prefix, last = path.split("/")
        if prefix and prefix[0] == ".data":
            return
        package = self._package_node(prefix)
        if isinstance(package, _Extern):
            return  # torch refuses; a file under an extern package is just data to us
        if last == "__init__.py":
            package.source_file = path
        elif last.endswith(".py"):
            package.children[last[:-3]] = _Module(path)

    def _add_extern(self, name):
        *prefix, last = name.split(".")
        package = self._package_node(prefix)
        if isinstance(package, _Package):
            package.children[last] = _Extern()

    # ----- import machinery (torch.package semantics) -----
    def _make_module(self, name, filename, is_package, parent):
        mangled_file = f"{self.prefix}.{filename}" if filename else None
        spec = importlib.machinery.ModuleSpec(name, self, origin="<package_importer>", is_package=is_package)
        module = types.ModuleType(self.prefix + "." + name)
        ns = module.__dict__
        ns["__spec__"] = spec
        ns["__loader__"] = self
        ns["__file__"] = mangled_file
        ns["__cached__"] = None
        ns["__builtins__"] = self.patched_builtins
        ns["__torch_package__"] = True
        ns["__package__"] = name if is_package else name.rpartition(".")[0]
        if is_package:
            ns["__path__"] = []
        self.modules[name] = module
        self._install_on_parent(parent, name, module)
        if filename is not None:
            source = self._source(filename)
            # For tracebacks: a lazy entry (linecache splits it into lines only when asked).
            linecache.cache[mangled_file] = (lambda source=source: source,)
            try:
                exec(self._code(filename, mangled_file, source), ns)
            except BaseException:
                self.modules.pop(name, None)
                raise
        return module

    def _load_module(self, name, parent):
        cur = self.root
        for atom in name.split("."):
            if not isinstance(cur, _Package) or atom not in cur.children:
                if name in IMPLICIT_IMPORT_ALLOWLIST:
                    module = self.modules[name] = importlib.import_module(name)
                    return module
                raise ModuleNotFoundError(
                    f'No module named "{name}" in self-contained archive "{self.label}" and the module is '
                    f"also not in the list of allowed external modules: {self.extern_modules}",
                    name=name,
                )
            cur = cur.children[atom]
            if isinstance(cur, _Extern):
                module = self.modules[name] = importlib.import_module(name)
                return module
        return self._make_module(name, cur.source_file, isinstance(cur, _Package), parent)

    def _install_on_parent(self, parent, name, module):
        if not parent:
            return
        parent_module = self.modules[parent]
        if getattr(parent_module, "__torch_package__", False):
            setattr(parent_module, name.rpartition(".")[2], module)

    def _do_find_and_load(self, name):
        parent = name.rpartition(".")[0]
        if parent:
            if parent not in self.modules:
                self._gcd_import(parent)
            if name in self.modules:
                return self.modules[name]
            if not hasattr(self.modules[parent], "__path__"):
                raise ModuleNotFoundError(f"No module named {name!r}; {parent!r} is not a package", name=name)
        module = self._load_module(name, parent)
        self._install_on_parent(parent, name, module)
        return module

    def _find_and_load(self, name):
        module = self.modules.get(name)
        if module is None:
            return self._do_find_and_load(name)
        # Modules that fake submodules through sys.modules (see pytorch#57490).
        if name == "os":
            self.modules["os.path"] = module.path
        return module

    def _gcd_import(self, name, package=None, level=0):
        if level > 0:
            bits = package.rsplit(".", level - 1)
            if len(bits) < level:
                raise ImportError("attempted relative import beyond top-level package")
            base = bits[0]
            name = f"{base}.{name}" if name else base
        if not name:
            raise ValueError("Empty module name")
        return self._find_and_load(name)

    def _handle_fromlist(self, module, fromlist, recursive=False):
        module_name = demangle(module.__name__)
        if hasattr(module, "__path__"):
            for x in fromlist:
                if x == "*":
                    if not recursive and hasattr(module, "__all__"):
                        self._handle_fromlist(module, module.__all__, recursive=True)
                elif not hasattr(module, x):
                    try:
                        self._gcd_import(f"{module_name}.{x}")
                    except ModuleNotFoundError as exc:
                        if exc.name != f"{module_name}.{x}":
                            raise
        return module

    @staticmethod
    def _calc_package(globals_):
        package = globals_.get("__package__")
        spec = globals_.get("__spec__")
        if package is not None:
            return package
        if spec is not None:
            return spec.parent
        package = globals_["__name__"]
        if "__path__" not in globals_:
            package = package.rpartition(".")[0]
        return demangle(package)

    def __import__(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            module = self._gcd_import(name)
        else:
            module = self._gcd_import(name, self._calc_package(globals or {}), level)
        if not fromlist:
            if level == 0:
                return self._gcd_import(name.partition(".")[0])
            if not name:
                return module
            cut_off = len(name) - len(name.partition(".")[0])
            module_name = demangle(module.__name__)
            return self.modules[module_name[: len(module_name) - cut_off]]
        return self._handle_fromlist(module, fromlist)


class _ResourceReader:
    """importlib.resources support for packaged modules (files() API)."""

    def __init__(self, importer, fullname):
        self.importer = importer
        self.fullname = fullname

    def files(self):
        return _ArchivePath(self.importer, self.fullname.replace(".", "/"))


class _ArchivePath(Traversable):
    def __init__(self, importer, path):
        self._importer = importer
        self._path = path.strip("/")

    @property
    def name(self):
        return self._path.rpartition("/")[2]

    def _prefix(self):
        return self._path + "/" if self._path else ""

    def is_file(self):
        return self._path in self._importer.files

    def is_dir(self):
        prefix = self._prefix()
        return any(p.startswith(prefix) for p in self._importer.files)

    def iterdir(self):
        prefix = self._prefix()
        seen = set()
        for p in self._importer.files:
            if p.startswith(prefix) and not p.startswith(".data/"):
                child = p[len(prefix):].split("/", 1)[0]
                if child not in seen:
                    seen.add(child)
                    yield _ArchivePath(self._importer, prefix + child)

    def joinpath(self, *descendants):
        path = "/".join([self._path, *descendants]) if self._path else "/".join(descendants)
        return _ArchivePath(self._importer, path)

    def __truediv__(self, child):
        return self.joinpath(child)

    def open(self, mode="r", *args, **kwargs):
        if not self.is_file():
            raise FileNotFoundError(f"no resource {self._path!r} in {self._importer.label}")
        data = io.BytesIO(self._importer.files[self._path])
        if "b" in mode:
            return data
        return io.TextIOWrapper(data, *args, **kwargs)

    def read_bytes(self):
        with self.open("rb") as f:
            return f.read()

    def read_text(self, encoding=None, errors=None):
        return self.read_bytes().decode(encoding or "utf-8", errors or "strict")

    def __repr__(self):
        return f"<archive path {self._path!r} in {self._importer.label}>"
