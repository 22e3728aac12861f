import AffiliateCore
import Testing

@Suite struct JSONValueTests {
    @Test func objectsKeepKeyOrderThroughParseAndSerialize() throws {
        let text = #"{"b":1,"a":[true,false,null],"c":{"z":"x\"y","y":-1.5e3}}"#
        let value = try JSONValue(parsing: text)
        #expect(value.serialized == text)
        #expect(value.objectValue?.keys == ["b", "a", "c"])
    }

    @Test func settingNilRemovesAndNewKeysGoLast() {
        var object: JSONObject = ["source": .string("qr"), "location": .string("campus")]
        object["source"] = nil
        object["campus"] = .string("north")
        #expect(object.keys == ["location", "campus"])
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "01", "1.", "\"\\x\"", "{\"a\":1} x", "nul", "\"\u{01}\""])
    func malformedInputIsRefused(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func numbersCompareByValueAndKeyOrderIsIgnoredForEquality() throws {
        let a = try JSONValue(parsing: #"{"amount":550,"meta":{"x":1,"y":2}}"#)
        let b = try JSONValue(parsing: #"{"meta":{"y":2.0,"x":1},"amount":5.5e2}"#)
        #expect(a.numericallyEquals(b))
        #expect(!a.numericallyEquals(try JSONValue(parsing: #"{"amount":551,"meta":{"x":1,"y":2}}"#)))
    }

    @Test func integersAreRecognisedOnlyWithoutFractionOrExponent() throws {
        #expect(try JSONValue(parsing: "9007199254740991").integerValue == 9_007_199_254_740_991)
        #expect(try JSONValue(parsing: "5.0").integerValue == nil)
        #expect(try JSONValue(parsing: "\"5\"").integerValue == nil)
    }

    @Test func escapesAndSurrogatePairsDecode() throws {
        #expect(try JSONValue(parsing: #""a\u00e9\ud83d\ude00\n""#) == .string("aé😀\n"))
        #expect(JSONValue.string("tab\there\u{01}").serialized == #""tab\there\u0001""#)
    }
}
