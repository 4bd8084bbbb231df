/// `spec.behavior` of an `autoscaling/v2` HorizontalPodAutoscaler (KEDA copies
/// `advanced.horizontalPodAutoscalerConfig.behavior` into the HPA it creates verbatim).
public struct HPABehavior: Sendable, Equatable {
    public var scaleUp: ScalingRules
    public var scaleDown: ScalingRules

    public init(scaleUp: ScalingRules = .defaultScaleUp, scaleDown: ScalingRules = .defaultScaleDown) {
        self.scaleUp = scaleUp
        self.scaleDown = scaleDown
    }
}

/// One direction of ``HPABehavior``, with the API server's defaults filled in per field.
public struct ScalingRules: Sendable, Equatable {
    public enum Select: String, Sendable, Equatable, CaseIterable {
        /// The policy allowing the largest change.
        case max = "Max"
        /// The policy allowing the smallest change.
        case min = "Min"
        /// No scaling in this direction.
        case disabled = "Disabled"
    }

    public struct Policy: Sendable, Equatable {
        public enum Kind: String, Sendable, Equatable {
            case pods = "Pods"
            case percent = "Percent"
        }

        public var kind: Kind
        public var value: Int
        public var periodSeconds: Int

        public init(_ kind: Kind, _ value: Int, periodSeconds: Int) {
            self.kind = kind
            self.value = value
            self.periodSeconds = periodSeconds
        }
    }

    public var stabilizationWindowSeconds: Int
    public var selectPolicy: Select
    public var policies: [Policy]
    /// The per-HPA tolerance of this direction (`behavior.scaleUp.tolerance`); nil: the controller's
    /// global `--horizontal-pod-autoscaler-tolerance`.
    public var tolerance: Double?

    public init(stabilizationWindowSeconds: Int, selectPolicy: Select, policies: [Policy], tolerance: Double? = nil) {
        self.stabilizationWindowSeconds = stabilizationWindowSeconds
        self.selectPolicy = selectPolicy
        self.policies = policies
        self.tolerance = tolerance
    }

    /// `pkg/apis/autoscaling/v2/defaults.go`: no stabilization, the larger of 4 pods and 100 % per 15 s.
    public static let defaultScaleUp = ScalingRules(
        stabilizationWindowSeconds: 0, selectPolicy: .max,
        policies: [Policy(.pods, 4, periodSeconds: 15), Policy(.percent, 100, periodSeconds: 15)])

    /// The controller's `--horizontal-pod-autoscaler-downscale-stabilization` (300 s), 100 % per 15 s.
    public static let defaultScaleDown = ScalingRules(
        stabilizationWindowSeconds: 300, selectPolicy: .max, policies: [Policy(.percent, 100, periodSeconds: 15)])

    /// The longest policy period: scale events older than it no longer limit anything.
    var longestPeriod: Int { policies.map(\.periodSeconds).max() ?? 0 }
}

/// The controller's tolerance band: a metric whose usage ratio lies within it proposes no change.
public struct Tolerance: Sendable, Equatable {
    public var scaleUp: Double
    public var scaleDown: Double

    public init(scaleUp: Double = 0.1, scaleDown: Double = 0.1) {
        self.scaleUp = scaleUp
        self.scaleDown = scaleDown
    }

    /// `isWithin` of `replica_calculator.go`: `1 - down <= ratio <= 1 + up`.
    public func isWithin(_ ratio: Double) -> Bool { 1 - scaleDown <= ratio && ratio <= 1 + scaleUp }
}
