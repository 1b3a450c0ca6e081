import Testing
@testable import CofferImage
