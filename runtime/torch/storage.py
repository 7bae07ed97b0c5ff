"""torch.storage: the storage class names pickles and library code reference
(PyTorch 1.13: TypedStorage/_TypedStorage, UntypedStorage/_UntypedStorage, _LegacyStorage).
Storages themselves are engine-resident (torch._storage.Storage); these classes only carry
a dtype for the pickles' persistent ids and answer isinstance checks."""

from ._storage import TypedStorage, UntypedStorage, legacy_storage_classes

_TypedStorage = TypedStorage
_UntypedStorage = UntypedStorage
_LegacyStorage = TypedStorage
_StorageBase = UntypedStorage

__all__ = ["TypedStorage", "UntypedStorage"]

globals().update(legacy_storage_classes)
