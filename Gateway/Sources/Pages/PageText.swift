/// Every sentence of the shopper pages, in English and Korean. `{name}` marks a value.
enum PageText: CaseIterable, Sendable {
    case siteName, switchLanguage, refresh, inFuture, inPast
    case perCustomer, stockLeft, opensAt, onSaleNow, saleEnded, soldOut, joinLine, preQueueRule
    case signInToJoin, dealNotFound, lineOpensAt
    case lineTitle, position, ahead, etaRange, asOf, estimating, progressLabel, pausedTitle, paused
    case preQueueTitle, preQueueDraw, preQueueDrawAlone, drawSeed
    case yourTurn, passValidUntil, quantity, placeOrder
    case soldOutNotCharged, expired, joinAgain, passUsed, viewOrder, ended
    case orderTitle, orderPending, orderConfirmed, orderRejected, orderFailed, orderCancelled, reason, cancelOrder
    case orderNotFound, errorTitle, retryIn, connectionLost
    case reasonSoldOut, reasonLimit, reasonClosed

    var en: String {
        switch self {
        case .siteName: "Flash Deal"
        case .switchLanguage: "한국어로 보기"
        case .refresh: "Refresh"
        case .inFuture: "in {amount}"
        case .inPast: "{amount} ago"
        case .perCustomer: "Up to {limit} per customer"
        case .stockLeft: "{left} of {total} left"
        case .opensAt: "Opens {time} ({relative})"
        case .onSaleNow: "On sale now, until {time}"
        case .saleEnded: "This sale has ended."
        case .soldOut: "Sold out."
        case .joinLine: "Join the line"
        case .preQueueRule:
            "Everyone waiting when the sale opens gets a random place in line: arriving early gives no head start."
        case .signInToJoin: "Sign in to join the line."
        case .lineOpensAt: "The line opens {time} ({relative})."
        case .dealNotFound: "There is no such deal."
        case .lineTitle: "Your place in line"
        case .position: "You are number {position} in line."
        case .ahead: "{ahead} people ahead of you"
        case .etaRange: "Estimated wait: {low} to {high}"
        case .asOf: "as of {time}"
        case .estimating: "Estimating your wait…"
        case .pausedTitle: "The line is paused"
        case .paused: "Admission is paused for a moment. Your place is kept: keep this page open."
        case .progressLabel: "Progress through the line"
        case .preQueueTitle: "Waiting for the opening"
        case .preQueueDraw:
            "The line opens {time} ({relative}). {entrants} people are waiting; each will get a random place."
        case .preQueueDrawAlone:
            "The line opens {time} ({relative}). You are the only one waiting so far; everyone waiting then gets a random place."
        case .drawSeed: "The draw's seed commitment is published before the opening."
        case .yourTurn: "It's your turn"
        case .passValidUntil: "Order by {time} ({relative})."
        case .quantity: "Quantity"
        case .placeOrder: "Place order"
        case .soldOutNotCharged: "Sold out. You were not charged."
        case .expired: "Your place has expired."
        case .joinAgain: "Join the line again (at the back)"
        case .passUsed: "You have placed your order with this pass."
        case .viewOrder: "See your order"
        case .ended: "The sale has ended. You were not charged."
        case .orderTitle: "Your order"
        case .orderPending: "Received: we are confirming it."
        case .orderConfirmed: "Confirmed."
        case .orderRejected: "Not confirmed. You were not charged."
        case .orderFailed: "It could not be completed. You were not charged."
        case .orderCancelled: "Cancelled."
        case .reason: "Reason: {reason}"
        case .reasonSoldOut: "not enough units were left for this order"
        case .reasonLimit: "this would take you over the limit per customer"
        case .reasonClosed: "the sale had closed"
        case .cancelOrder: "Cancel the order"
        case .orderNotFound:
            "No order with this number is recorded for you yet. An order you have just placed appears here once it is decided, usually within seconds."
        case .errorTitle: "Something went wrong"
        case .retryIn: "Please try again in {seconds} s."
        case .connectionLost: "The connection is lost. Your place is kept; this page keeps trying to reconnect."
        }
    }

    var ko: String {
        switch self {
        case .siteName: "플래시 딜"
        case .switchLanguage: "View in English"
        case .refresh: "새로 고침"
        case .inFuture: "{amount} 후"
        case .inPast: "{amount} 전"
        case .perCustomer: "1인당 최대 {limit}개"
        case .stockLeft: "{total}개 중 {left}개 남음"
        case .opensAt: "{time} 오픈 ({relative})"
        case .onSaleNow: "지금 판매 중, {time}까지"
        case .saleEnded: "판매가 끝났습니다."
        case .soldOut: "품절되었습니다."
        case .joinLine: "대기열에 들어가기"
        case .preQueueRule: "오픈 시각에 기다리고 있는 모든 분은 무작위로 순번을 받습니다. 먼저 와도 유리하지 않습니다."
        case .signInToJoin: "대기열에 들어가려면 로그인하세요."
        case .lineOpensAt: "대기열은 {time}에 열립니다 ({relative})."
        case .dealNotFound: "해당 딜이 없습니다."
        case .lineTitle: "나의 대기 순번"
        case .position: "대기 순번 {position}번입니다."
        case .ahead: "앞에 {ahead}명"
        case .etaRange: "예상 대기 시간: {low}~{high}"
        case .asOf: "{time} 기준"
        case .estimating: "대기 시간을 계산하고 있습니다…"
        case .pausedTitle: "대기열이 잠시 멈췄습니다"
        case .paused: "입장이 잠시 중단되었습니다. 순서는 그대로 유지되니 이 페이지를 열어 두세요."
        case .progressLabel: "대기열 진행률"
        case .preQueueTitle: "오픈을 기다리는 중"
        case .preQueueDraw: "대기열은 {time}에 열립니다 ({relative}). {entrants}명이 기다리고 있으며 모두 무작위 순번을 받습니다."
        case .preQueueDrawAlone: "대기열은 {time}에 열립니다 ({relative}). 지금은 혼자 기다리고 있으며, 그때 기다리는 모두가 무작위 순번을 받습니다."
        case .drawSeed: "추첨 시드의 커밋 값은 오픈 전에 공개됩니다."
        case .yourTurn: "주문하실 차례입니다"
        case .passValidUntil: "{time}까지 주문하세요 ({relative})."
        case .quantity: "수량"
        case .placeOrder: "주문하기"
        case .soldOutNotCharged: "품절되었습니다. 결제되지 않았습니다."
        case .expired: "대기 순번이 만료되었습니다."
        case .joinAgain: "대기열에 다시 들어가기 (맨 뒤)"
        case .passUsed: "이 입장권으로 주문하셨습니다."
        case .viewOrder: "주문 보기"
        case .ended: "판매가 끝났습니다. 결제되지 않았습니다."
        case .orderTitle: "나의 주문"
        case .orderPending: "접수되었습니다. 확정하는 중입니다."
        case .orderConfirmed: "확정되었습니다."
        case .orderRejected: "확정되지 않았습니다. 결제되지 않았습니다."
        case .orderFailed: "완료하지 못했습니다. 결제되지 않았습니다."
        case .orderCancelled: "취소되었습니다."
        case .reason: "사유: {reason}"
        case .reasonSoldOut: "남은 수량이 이 주문에 부족했습니다"
        case .reasonLimit: "1인당 구매 한도를 넘습니다"
        case .reasonClosed: "판매가 이미 종료되었습니다"
        case .cancelOrder: "주문 취소하기"
        case .orderNotFound: "이 번호로 기록된 주문이 아직 없습니다. 방금 주문하셨다면 확정 또는 거절되는 즉시, 보통 몇 초 안에 여기에 표시됩니다."
        case .errorTitle: "문제가 생겼습니다"
        case .retryIn: "{seconds}초 후에 다시 시도해 주세요."
        case .connectionLost: "연결이 끊겼습니다. 순번은 유지되며, 이 페이지가 계속 다시 연결을 시도합니다."
        }
    }
}
