import AffiliateConfig
import AffiliateCore
import Testing

@Suite struct CampaignProblemTests {
    @Test func campaignIDsAreUniqueInATenant() {
        let yaml = ConfigTesting.acme("""
                campaigns:
                  - { id: 15161, name: First, landing_url: "http://example.com/" }
                  - { id: 15161, name: Second, landing_url: "http://example.com/2" }

            """)
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(9, 15, "tenants.acme.campaigns[1].id", "duplicate campaign id 15161 (first at line 8)"),
        ])
    }

    @Test func theSameCampaignIDInTwoTenantsIsFine() throws {
        let yaml = """
            tenants:
              a:
                name: A
                dialect: firstpromoter-v1
                api_keys: [ { id: a, sha256: \(ConfigTesting.hashA) } ]
                campaigns: [ { id: 1, name: One, landing_url: "http://a.example/" } ]
              b:
                name: B
                dialect: firstpromoter-v1
                api_keys: [ { id: b, sha256: \(ConfigTesting.hashB) } ]
                campaigns: [ { id: 1, name: One, landing_url: "http://b.example/" } ]
            """
        let config = try ConfigTesting.loader.load(yaml: yaml, path: ConfigTesting.file)
        #expect(config.tenants.map { $0.campaign(id: 1)?.landingURL } == ["http://a.example/", "http://b.example/"])
    }

    @Test(arguments: [
        ("abc", "expected a whole number, found a string"),
        ("15.5", "expected a whole number, found a fraction"),
        ("\"15\"", "expected a whole number, found a string"),
        ("0", "campaign id must be a positive whole number"),
        ("99999999999999999999", "99999999999999999999 is too large"),
    ])
    func campaignIDsArePositiveWholeNumbers(id: String, message: String) {
        let yaml = ConfigTesting.acme("    campaigns:\n      - { id: \(id), name: First, landing_url: \"http://example.com/\" }\n")
        #expect(ConfigTesting.problems(yaml) == [ConfigTesting.problem(8, 15, "tenants.acme.campaigns[0].id", message)])
    }

    @Test func idNameAndLandingURLAreRequired() {
        let yaml = ConfigTesting.acme("    campaigns:\n      - { color: \"#ffffff\" }\n")
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(8, 9, "tenants.acme.campaigns[0]", "missing required key \"id\""),
            ConfigTesting.problem(8, 9, "tenants.acme.campaigns[0]", "missing required key \"name\""),
            ConfigTesting.problem(8, 9, "tenants.acme.campaigns[0]", "missing required key \"landing_url\""),
        ])
    }

    @Test func campaignFieldsHaveTheirTypes() {
        let yaml = ConfigTesting.acme("""
                campaigns:
                  - id: 1
                    name: First
                    landing_url: http://example.com/
                    private: "yes"
                    auto_approve_rewards: 1
                    color:
                    langing_page: http://example.com/

            """)
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(11, 18, "tenants.acme.campaigns[0].private", "expected true or false, found a string"),
            ConfigTesting.problem(12, 31, "tenants.acme.campaigns[0].auto_approve_rewards", "expected true or false, found a number"),
            ConfigTesting.problem(13, 15, "tenants.acme.campaigns[0].color",
                                  "expected a string, found null (quote colors: \"#00bcd4\")"),
            ConfigTesting.problem(14, 9, "tenants.acme.campaigns[0].langing_page", "unknown key \"langing_page\""),
        ])
    }

    @Test func campaignsAreAList() {
        #expect(ConfigTesting.problems(ConfigTesting.acme("    campaigns: { id: 1 }\n")) == [
            ConfigTesting.problem(7, 16, "tenants.acme.campaigns", "expected a list of campaigns, found a mapping"),
        ])
    }
}
