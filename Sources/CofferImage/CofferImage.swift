/// The image builder: build inputs, ELF dependency closure, tar/OCI unpacking, EROFS, dm-verity,
/// manifest and signing. See docs/architecture.md.
public enum CofferImage {}
