/// The members of a JSON object, in document order, each name at most once.
///
/// Lookup is a linear scan: the objects Coffer reads have a handful of members, and a scan of a
/// few short strings beats hashing them. The parser refuses a repeated name (see `JSONParser`),
/// and setting a name already present replaces its value in place.
public struct JSONObject: Sendable, RandomAccessCollection, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral {
    public typealias Element = (key: String, value: JSONValue)
    public typealias Index = Int

    public private(set) var members: [Element]

    public init() { members = [] }

    /// Members in order; a later member of an already used name replaces the earlier value.
    public init(_ members: some Sequence<(String, JSONValue)>) {
        self.members = []
        for (key, value) in members { self[key] = value }
    }

    /// Members of a dictionary, in the dictionary's order.
    public init(_ members: [String: JSONValue]) {
        self.members = members.map { (key: $0.key, value: $0.value) }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
    public init(arrayLiteral elements: (String, JSONValue)...) { self.init(elements) }

    /// Members known to have distinct names (the parser checks as it reads).
    init(uniqueMembers: [Element]) { members = uniqueMembers }

    public var startIndex: Int { members.startIndex }
    public var endIndex: Int { members.endIndex }
    public subscript(position: Int) -> Element { members[position] }

    public var keys: [String] { members.map(\.key) }

    /// The value of member `key`; setting nil removes it, setting a value replaces or appends.
    public subscript(key: String) -> JSONValue? {
        get { members.first { $0.key == key }?.value }
        set {
            let index = members.firstIndex { $0.key == key }
            switch (index, newValue) {
            case let (index?, value?): members[index].value = value
            case let (index?, nil): members.remove(at: index)
            case let (nil, value?): members.append((key: key, value: value))
            case (nil, nil): break
            }
        }
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let index = members.firstIndex(where: { $0.key == key }) else { return nil }
        return members.remove(at: index).value
    }

    /// Sets every member of `other`; `combine` picks the value when a name is in both.
    public mutating func merge(_ other: JSONObject, uniquingKeysWith combine: (JSONValue, JSONValue) -> JSONValue) {
        for (key, value) in other { self[key] = self[key].map { combine($0, value) } ?? value }
    }

    public func mapValues(_ transform: (JSONValue) -> JSONValue) -> JSONObject {
        JSONObject(uniqueMembers: members.map { (key: $0.key, value: transform($0.value)) })
    }
}

extension JSONObject: Equatable {
    /// Objects are equal when they have the same names with equal values, in any order (RFC 8259
    /// §4: an object is an unordered collection).
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.count == rhs.count && lhs.members.allSatisfy { rhs[$0.key] == $0.value }
    }
}
