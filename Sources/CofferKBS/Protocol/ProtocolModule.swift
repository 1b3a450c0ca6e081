/// The broker speaks the protocol module's types: whoever uses the broker sees them too.
@_exported import CofferKBSProtocol
