import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML element: just what S3 responses need (names, text, children).
struct XMLElementNode {
    var name: String
    var text: String = ""
    var children: [XMLElementNode] = []

    func child(_ name: String) -> XMLElementNode? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLElementNode] { children.filter { $0.name == name } }
    func text(_ name: String) -> String? { child(name)?.text }

    static func parse(_ bytes: [UInt8]) -> XMLElementNode? {
        let delegate = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = delegate
        guard parser.parse() else { return nil }
        return delegate.root
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XMLElementNode] = []
    var root: XMLElementNode?

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        stack.append(XMLElementNode(name: elementName))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if !stack.isEmpty { stack[stack.count - 1].text += string }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let finished = stack.popLast() else { return }
        if stack.isEmpty {
            root = finished
        } else {
            stack[stack.count - 1].children.append(finished)
        }
    }
}
