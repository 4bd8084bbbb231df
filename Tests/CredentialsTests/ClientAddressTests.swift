import Credentials
import Testing

@Suite("Client address")
struct ClientAddressTests {
    let resolver = try! ClientAddressResolver(trustedProxies: ["10.0.0.0/8", "192.168.1.7", "fd00::/8"])

    @Test func directConnectionIgnoresHeader() {
        #expect(resolver.resolve(socketAddress: "203.0.113.9", forwardedFor: nil) == "203.0.113.9")
        #expect(resolver.resolve(socketAddress: "10.1.2.3:5555", forwardedFor: nil) == "10.1.2.3")
    }

    @Test func spoofedHeaderFromUntrustedPeerIsIgnored() {
        #expect(resolver.resolve(socketAddress: "203.0.113.9", forwardedFor: "1.2.3.4") == "203.0.113.9")
        #expect(resolver.resolve(socketAddress: "203.0.113.9:443", forwardedFor: "10.0.0.1, 1.2.3.4") == "203.0.113.9")
        #expect(resolver.resolve(socketAddress: "[2001:db8::1]:443", forwardedFor: "1.2.3.4") == "2001:db8::1")
    }

    @Test func walksRightToLeftPastTrustedProxies() {
        #expect(resolver.resolve(socketAddress: "10.0.0.5", forwardedFor: "198.51.100.7") == "198.51.100.7")
        // The client prepended a fake entry; the first untrusted hop from the right wins.
        #expect(
            resolver.resolve(
                socketAddress: "10.0.0.5",
                forwardedFor: "6.6.6.6, 198.51.100.7, 192.168.1.7, 10.9.9.9") == "198.51.100.7")
        // Every hop trusted: the leftmost.
        #expect(resolver.resolve(socketAddress: "10.0.0.5", forwardedFor: "10.0.0.3,10.0.0.4") == "10.0.0.3")
        // Empty header: the peer.
        #expect(resolver.resolve(socketAddress: "10.0.0.5", forwardedFor: "") == "10.0.0.5")
        // Garbage stops the walk at the last good (trusted) hop.
        #expect(resolver.resolve(socketAddress: "10.0.0.5", forwardedFor: "1.1.1.1, not-an-ip, 10.0.0.4") == "10.0.0.4")
    }

    @Test func ipv6Proxies() {
        #expect(
            resolver.resolve(socketAddress: "[fd12::1]:8080", forwardedFor: "2001:db8::42, fd00::9") == "2001:db8::42")
        #expect(resolver.resolve(socketAddress: "fd12::1", forwardedFor: "[2001:db8::43]:1234") == "2001:db8::43")
        #expect(resolver.resolve(socketAddress: "fe80::1", forwardedFor: "2001:db8::42") == "fe80::1")
        // IPv4-mapped IPv6 peer matches an IPv4 CIDR.
        #expect(resolver.resolve(socketAddress: "::ffff:10.0.0.5", forwardedFor: "198.51.100.7") == "198.51.100.7")
    }

    @Test func cidrMatching() throws {
        let v4 = try CIDR("172.16.0.0/12")
        #expect(v4.contains("172.31.255.255"))
        #expect(!v4.contains("172.32.0.0"))
        #expect(try CIDR("172.16.5.9/12").description == "172.16.0.0/12")
        let v6 = try CIDR("2001:db8::/32")
        #expect(v6.contains("2001:db8:ffff::1"))
        #expect(!v6.contains("2001:db9::1"))
        #expect(!v6.contains("32.1.13.184"))
        #expect(try CIDR("0.0.0.0/0").contains("8.8.8.8"))
        #expect(try CIDR("::/0").contains("::1"))
        #expect(try CIDR("::1").prefixLength == 128)
        #expect(try CIDR("1:2:3:4:5:6:1.2.3.4/128").contains("1:2:3:4:5:6:102:304"))
    }

    @Test(arguments: [
        "", "10.0.0.0/33", "10.0.0/8", "256.1.1.1", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/9",
        "01.2.3.4", "2001:db8::/129", "2001:::1", "1::2::3", "gggg::", "fe80::1%eth0", "1:2:3:4:5:6:7:8:9",
        "localhost", " 10.0.0.1",
    ])
    func badCIDRsAreRejectedClearly(entry: String) {
        do {
            _ = try CIDR(entry)
            Issue.record("accepted \(entry.debugDescription)")
        } catch {
            #expect(error.code == .invalidCIDR)
            #expect(error.message.contains(entry.debugDescription))
        }
    }

    @Test func resolverInitReportsTheBadEntry() {
        Fixture.expectCode(.invalidCIDR) { () throws(CredentialError) in
            try ClientAddressResolver(trustedProxies: ["10.0.0.0/8", "nope/3"])
        }
    }
}
